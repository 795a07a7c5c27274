import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import NNsightTorch

/// The client's WebSocket to a server. Messages are routed to mailboxes by (trace, invoke), so
/// the threads running a trace's invokes wait for their own answers; sends are queued and written
/// by the connection's task, in order.
// @unchecked: `mailboxes` and `closedError` only under `lock`; `task` is set once in init, before
// the connection is shared; the outbox continuation is itself Sendable.
final class RemoteConnection: @unchecked Sendable {
    /// One party's address: (trace, invoke); -1 for "none" (the connection, or a whole trace).
    struct Address: Hashable {
        let trace: Int
        let invoke: Int
    }

    enum Outgoing: Sendable {
        case text(String)
        case binary([UInt8])
    }

    private let lock = NSLock()
    private var mailboxes: [Address: Mailbox] = [:]
    private var closedError: (any Error)?
    private let outbox: AsyncStream<Outgoing>.Continuation
    private let outgoing: AsyncStream<Outgoing>
    private var task: Task<Void, Never>?
    let maxFrameBytes: Int

    /// Opens the WebSocket at `url` (`ws://127.0.0.1:8000`; the session path is added).
    init(url: String, maxFrameBytes: Int = RemoteProtocol.defaultMaxFrameBytes, logger: Logger) {
        (outgoing, outbox) = AsyncStream.makeStream(of: Outgoing.self)
        self.maxFrameBytes = maxFrameBytes
        let target = url.hasSuffix(RemoteProtocol.sessionPath) ? url : url + RemoteProtocol.sessionPath
        let outgoing = self.outgoing
        task = Task.detached { [self] in
            do {
                var configuration = WebSocketClientConfiguration()
                configuration.maxFrameSize = maxFrameBytes
                try await WebSocketClient.connect(url: target, configuration: configuration, logger: logger) {
                    inbound, outbound, _ in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await frame in outgoing {
                                switch frame {
                                case .text(let text): try await outbound.write(.text(text))
                                case .binary(let bytes): try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                                }
                            }
                            // The client closed: end the WebSocket politely.
                            try await outbound.close(.normalClosure, reason: nil)
                        }
                        for try await message in inbound.messages(maxSize: maxFrameBytes) {
                            self.receive(message)
                        }
                        group.cancelAll()
                    }
                }
                self.close(with: RemoteError.connection("the server closed the connection"))
            } catch {
                self.close(with: RemoteError.connection("\(error)"))
            }
        }
    }

    /// Routes one inbound message to its mailbox.
    private func receive(_ message: WebSocketMessage) {
        let delivery: (WireMessage, Tensor?)
        do {
            switch message {
            case .text(let text):
                delivery = (try WireFrame.decode(text: text), nil)
            case .binary(let buffer):
                let decoded = try buffer.withUnsafeReadableBytes { bytes in try WireFrame.decode(binary: bytes) }
                delivery = (decoded.0, decoded.1)
            }
        } catch {
            close(with: error)
            return
        }
        let address = Address(trace: delivery.0.trace ?? -1, invoke: delivery.0.invoke ?? -1)
        mailbox(address).put(.message(delivery.0, delivery.1))
    }

    /// The mailbox of `address`, created on first use by either side.
    func mailbox(_ address: Address) -> Mailbox {
        lock.lock()
        defer { lock.unlock() }
        if let box = mailboxes[address] { return box }
        let box = Mailbox()
        if let closedError { box.put(.closed(closedError)) }
        mailboxes[address] = box
        return box
    }

    /// Forgets the mailboxes of a finished trace.
    func release(trace: Int) {
        lock.lock()
        mailboxes = mailboxes.filter { $0.key.trace != trace }
        lock.unlock()
    }

    func send(_ message: WireMessage) throws {
        try checkOpen()
        outbox.yield(.text(WireFrame.text(message)))
    }

    func send(_ message: WireMessage, tensor: Tensor) throws {
        try checkOpen()
        let frame = try WireFrame.binary(message, tensor: tensor)
        guard frame.count <= maxFrameBytes else {
            throw RemoteError.protocolError(.limitExceeded, "a \(frame.count)-byte frame exceeds the \(maxFrameBytes)-byte limit")
        }
        outbox.yield(.binary(frame))
    }

    /// Sends raw bytes as one binary frame (for tests of the server's frame checks).
    func sendRaw(binary bytes: [UInt8]) { outbox.yield(.binary(bytes)) }
    func sendRaw(text: String) { outbox.yield(.text(text)) }

    private func checkOpen() throws {
        lock.lock()
        defer { lock.unlock() }
        if let closedError { throw closedError }
    }

    /// Ends the connection: every waiting party receives `error`.
    func close(with error: any Error) {
        lock.lock()
        let first = closedError == nil
        if first { closedError = error }
        let boxes = Array(mailboxes.values)
        lock.unlock()
        guard first else { return }
        for box in boxes { box.put(.closed(error)) }
        outbox.finish()
    }

    /// Closes the socket.
    func shutDown() {
        close(with: RemoteError.connection("the client closed the connection"))
        task?.cancel()
    }
}
