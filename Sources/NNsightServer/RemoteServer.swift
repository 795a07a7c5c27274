import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NNsight
import NNsightNN
import NNsightRemote
import ServiceLifecycle

/// The server of `nnsight serve`: hosts one language model and runs only its own forward passes
/// and the tensor writes its clients ask for; the clients' closures stay with the clients.
/// HTTP and WebSocket through Hummingbird 2: `GET /v1/health`, `GET /v1/stats`, and the session
/// WebSocket at `/v1/session` (protocol in docs/remote-protocol.md).
///
/// ```swift
/// let server = try RemoteServer(model: LanguageModel(path: "models/gpt2", dispatch: true),
///                               configuration: ServerConfiguration(port: 0))
/// try await server.run()                 // until SIGINT/SIGTERM, or `shutDown()`
/// ```
// @unchecked: `boundPort`, `portWaiters`, `serviceGroup` and `nextSession` only under `lock`; the
// model is used only on the scheduler's thread, its module tree and limits are read-only.
public final class RemoteServer: @unchecked Sendable {
    public let configuration: ServerConfiguration
    let model: LanguageModel
    let scheduler: BatchScheduler
    let moduleTree: ModuleNode
    private let logger: Logger
    private let lock = NSLock()
    private var boundPort: Int?
    private var portWaiters: [CheckedContinuation<Int, any Error>] = []
    private var serviceGroup: ServiceGroup?
    private var nextSession = 0
    /// The first token embedding's rows (ids must be below) and the fewest rows of any embedding
    /// (positions must fit: GPT-2's `wpe`).
    private let vocabularySize: Int?
    private let maxSequenceLength: Int?

    public init(model: LanguageModel, configuration: ServerConfiguration,
                logger: Logger = Logger(label: "nnsight.serve")) throws {
        try model.dispatch()
        self.model = model
        self.configuration = configuration
        self.logger = logger
        scheduler = BatchScheduler(model: model, configuration: configuration, logger: logger)
        moduleTree = ModuleNode(describing: model.network as Module)
        let embeddingRows = model.network.namedModules().compactMap { _, module -> Int? in
            guard module is Embedding, let weight = module.ownParameters.first(where: { $0.name == "weight" }) else { return nil }
            return weight.parameter.value.shape.first
        }
        vocabularySize = embeddingRows.first
        maxSequenceLength = embeddingRows.count > 1 ? embeddingRows.min() : nil
    }

    /// What the server has done so far (forwards, shared forwards, traces).
    public var stats: ServerStatistics { scheduler.stats }

    /// The port the server listens on, once it does.
    public var port: Int {
        get async throws {
            try await withCheckedThrowingContinuation { continuation in
                lock.lock()
                if let boundPort {
                    lock.unlock()
                    continuation.resume(returning: boundPort)
                } else {
                    portWaiters.append(continuation)
                    lock.unlock()
                }
            }
        }
    }

    /// Token rows of a trace's input, checked against the model's vocabulary and positions.
    func tokenRows(_ input: InvokeInput) throws -> [[Int]] {
        let rows: [[Int]]
        if let texts = input.texts { rows = try model.tokenRows(texts) } else { rows = try model.tokenRows(input.tokens ?? []) }
        for row in rows {
            if let vocabularySize, let bad = row.first(where: { $0 < 0 || $0 >= vocabularySize }) {
                throw RemoteError.protocolError(.malformedFrame, "token id \(bad) is outside the vocabulary (0..<\(vocabularySize))")
            }
            if let maxSequenceLength, row.count > maxSequenceLength {
                throw RemoteError.protocolError(.limitExceeded, "a prompt of \(row.count) tokens exceeds the model's \(maxSequenceLength) positions")
            }
        }
        return rows
    }

    /// Serves until SIGINT or SIGTERM (when `handleSignals`) or ``shutDown()``; then stops taking
    /// traces, cancels those queued, lets the running batch end, and returns.
    public func run(handleSignals: Bool = false) async throws {
        let router = Router()
        router.get("/v1/health") { _, _ in "ok" }
        router.get("/v1/stats") { [scheduler] _, _ -> String in
            let data = try JSONEncoder().encode(scheduler.stats)
            return String(decoding: data, as: UTF8.self)
        }
        let maxFrame = configuration.maxFrameBytes
        let app = Application(
            router: router,
            server: .http1WebSocketUpgrade(configuration: .init(ws: WebSocketServerConfiguration(maxFrameSize: maxFrame))) { [self] request, channel, _ in
                guard request.path == RemoteProtocol.sessionPath else { return .dontUpgrade }
                return .upgrade([:]) { inbound, outbound, _ in
                    await self.serve(inbound: inbound, outbound: outbound, channel: channel, maxFrame: maxFrame)
                }
            },
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "nnsight"),
            onServerRunning: { [self] channel in self.didBind(channel.localAddress?.port ?? configuration.port) },
            logger: logger
        )
        scheduler.start()
        let group = ServiceGroup(configuration: .init(
            services: [app], gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [], logger: logger))
        lock.withLock { serviceGroup = group }
        defer { scheduler.stop() }
        do {
            try await group.run()
        } catch {
            failPortWaiters(error)
            throw error
        }
        failPortWaiters(RemoteError.connection("the server stopped"))
        logger.info("server stopped")
    }

    /// Stops a running server gracefully.
    public func shutDown() async {
        let group = lock.withLock { serviceGroup }
        await group?.triggerGracefulShutdown()
    }

    private func didBind(_ port: Int) {
        lock.lock()
        boundPort = port
        let waiters = portWaiters
        portWaiters.removeAll()
        lock.unlock()
        logger.info("serving on \(configuration.host):\(port)\(configuration.keys == nil ? " without API keys (anyone may connect)" : "")")
        for waiter in waiters { waiter.resume(returning: port) }
    }

    private func failPortWaiters(_ error: any Error) {
        lock.lock()
        let waiters = portWaiters
        portWaiters.removeAll()
        lock.unlock()
        for waiter in waiters { waiter.resume(throwing: error) }
    }

    /// One client's WebSocket: its messages in, its session's frames out (written to `channel`
    /// by the threads that send them; the close through `outbound`).
    private func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: any Channel, maxFrame: Int) async {
        let session = lock.withLock {
            nextSession += 1
            return ClientSession(id: nextSession, server: self, logger: logger, channel: channel)
        }
        scheduler.clientConnected()
        defer { scheduler.clientDisconnected() }
        await withThrowingTaskGroup(of: Void.self) { group in
            let frames = session.outgoing
            group.addTask {
                for await case .close in frames {
                    try await outbound.close(.policyViolation, reason: nil)
                    return
                }
            }
            do {
                for try await message in inbound.messages(maxSize: maxFrame) {
                    switch message {
                    case .text(let text): session.receive(text: text)
                    case .binary(let buffer): buffer.withUnsafeReadableBytes { session.receive(binary: $0) }
                    }
                }
            } catch {
                logger.info("client \(session.id): \(error)")
            }
            session.disconnected()
            group.cancelAll()
        }
    }
}
