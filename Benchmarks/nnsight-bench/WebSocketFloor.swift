import Foundation
import Hummingbird
import HummingbirdWebSocket
import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket
import NNsightRemote
import ServiceLifecycle

/// The transport alone: one round trip of a frame over a loopback WebSocket of the same stack as
/// `nnsight serve` (Hummingbird 2, hummingbird-websocket), with no model and no engine. The
/// client side is built like ``RemoteModel``'s (a plain thread sends through the connection's
/// writer task and waits on a ``Mailbox``); the server echoes each frame either from its reader
/// task (`direct`), through a mailbox, a thread of its own and a writer task (`threaded`), or,
/// like ``RemoteServer``, through a mailbox and a thread that writes to the channel itself
/// (`threadedToChannel`). What a remote read costs above this floor is the server's and engine's own.
final class WebSocketFloor: @unchecked Sendable {
    enum Echo: Sendable { case direct, threaded, threadedToChannel }

    private let group: ServiceGroup
    let port: Int

    /// Starts an echo server on 127.0.0.1 and a free port.
    init(echo: Echo) throws {
        var logger = Logger(label: "nnsight.bench.echo")
        logger.logLevel = .warning
        let bound = PortBox()
        let app = Application(
            router: Router(),
            server: .http1WebSocketUpgrade(configuration: .init(ws: WebSocketServerConfiguration(maxFrameSize: 1 << 24))) { _, channel, _ in
                .upgrade([:]) { inbound, outbound, _ in
                    switch echo {
                    case .direct:
                        for try await message in inbound.messages(maxSize: 1 << 24) {
                            if case .binary(let buffer) = message { try await outbound.write(.binary(buffer)) }
                        }
                    case .threaded:
                        try await WebSocketFloor.threadedEcho(inbound, outbound)
                    case .threadedToChannel:
                        try await WebSocketFloor.threadedEcho(inbound, channel)
                    }
                }
            },
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "echo"),
            onServerRunning: { channel in bound.set(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let group = self.group
        Task { try await group.run() }
        port = bound.wait()
    }

    /// Frames in → a mailbox → a thread that hands each back → a writer task → frames out.
    private static func threadedEcho(_ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter) async throws {
        let (frames, sender) = AsyncStream.makeStream(of: [UInt8].self)
        let mailbox = BytesMailbox()
        Thread.detachNewThread {
            while let bytes = mailbox.take() { sender.yield(bytes) }
            sender.finish()
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await bytes in frames { try await outbound.write(.binary(ByteBuffer(bytes: bytes))) }
            }
            for try await message in inbound.messages(maxSize: 1 << 24) {
                if case .binary(let buffer) = message { mailbox.put(Array(buffer.readableBytesView)) }
            }
            mailbox.close()
            group.cancelAll()
        }
    }

    /// Frames in → a mailbox → a thread that writes each back to the channel itself.
    private static func threadedEcho(_ inbound: WebSocketInboundStream, _ channel: any Channel) async throws {
        let mailbox = BytesMailbox()
        Thread.detachNewThread {
            while let bytes = mailbox.take() {
                channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: bytes)), promise: nil)
            }
        }
        for try await message in inbound.messages(maxSize: 1 << 24) {
            if case .binary(let buffer) = message { mailbox.put(Array(buffer.readableBytesView)) }
        }
        mailbox.close()
    }

    func stop() {
        let group = self.group
        Task { await group.triggerGracefulShutdown() }
    }

    /// A client of the echo server, driven from a plain thread.
    final class Client: @unchecked Sendable {
        private let outbox: AsyncStream<[UInt8]>.Continuation
        private let replies = BytesMailbox()
        private let task: Task<Void, Never>

        init(port: Int) {
            let (outgoing, outbox) = AsyncStream.makeStream(of: [UInt8].self)
            self.outbox = outbox
            let replies = self.replies
            var logger = Logger(label: "nnsight.bench.echo.client")
            logger.logLevel = .warning
            task = Task.detached {
                var configuration = WebSocketClientConfiguration()
                configuration.maxFrameSize = 1 << 24
                _ = try? await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/echo", configuration: configuration, logger: logger) {
                    inbound, outbound, _ in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await bytes in outgoing { try await outbound.write(.binary(ByteBuffer(bytes: bytes))) }
                            try await outbound.close(.normalClosure, reason: nil)
                        }
                        for try await message in inbound.messages(maxSize: 1 << 24) {
                            if case .binary(let buffer) = message { replies.put(Array(buffer.readableBytesView)) }
                        }
                        group.cancelAll()
                    }
                }
                replies.close()
            }
        }

        /// Sends `bytes` and waits for them to come back.
        func roundTrip(_ bytes: [UInt8]) throws {
            outbox.yield(bytes)
            guard let echoed = replies.take(), echoed.count == bytes.count else {
                throw RemoteError.connection("the echo server did not answer")
            }
        }

        func close() {
            outbox.finish()
        }
    }
}

/// A blocking queue of frames (a ``Mailbox`` without the decoding).
private final class BytesMailbox: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [[UInt8]] = []
    private var closed = false

    func put(_ bytes: [UInt8]) {
        condition.lock()
        items.append(bytes)
        condition.signal()
        condition.unlock()
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next frame, or nil once closed and empty.
    func take() -> [UInt8]? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        return items.isEmpty ? nil : items.removeFirst()
    }
}

private final class PortBox: @unchecked Sendable {
    private let condition = NSCondition()
    private var port: Int?
    func set(_ value: Int) {
        condition.lock()
        port = value
        condition.broadcast()
        condition.unlock()
    }
    func wait() -> Int {
        condition.lock()
        defer { condition.unlock() }
        while port == nil { condition.wait() }
        return port!
    }
}
