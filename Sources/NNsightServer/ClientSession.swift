import Foundation
import Logging
import NIOCore
import NIOWebSocket
import NNsight
import NNsightRemote
import NNsightTorch

/// One client's WebSocket on the server: it authenticates the hello, turns `trace` messages into
/// queued jobs, and routes every access to the mailbox of the invoke it is for. Everything a
/// client sends is checked here or in ``ServerInvoke``; a bad frame is answered with a typed
/// error and touches nothing else.
// @unchecked: `key`, `limits`, `jobs` and `endedEarly` only under `lock`; the rest is `let` (the
// outbox continuation is Sendable).
final class ClientSession: @unchecked Sendable {
    /// What goes out through the WebSocket's writer task rather than straight to the channel.
    enum Outgoing: Sendable {
        case close
    }

    let id: Int
    private let server: RemoteServer
    /// The WebSocket's channel: frames are written to it from the thread that sends them (one
    /// hop to the event loop), not through the writer task (a second hop, about 12 µs of a read's
    /// round trip); one thread's frames keep their order, and the close that `outgoing` carries
    /// comes after every frame sent before it. (The server configures no WebSocket extension
    /// that would have to process frames on their way.)
    private let channel: any Channel
    private let outbox: AsyncStream<Outgoing>.Continuation
    let outgoing: AsyncStream<Outgoing>
    private let lock = NSLock()
    private var key: APIKeys.Entry?
    private var limits = KeyLimits()
    private var jobs: [Int: TraceJob] = [:]
    /// Traces that ended early, and why: later messages for them get this answer.
    private var endedEarly: [Int: RemoteError] = [:]
    private let logger: Logger

    init(id: Int, server: RemoteServer, logger: Logger, channel: any Channel) {
        self.id = id
        self.server = server
        self.channel = channel
        var logger = logger
        logger[metadataKey: "client"] = "\(id)"
        self.logger = logger
        (outgoing, outbox) = AsyncStream.makeStream(of: Outgoing.self)
    }

    // MARK: Sending (any thread)

    func send(_ message: WireMessage) {
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: WireFrame.text(message))), promise: nil)
    }

    func send(frame: [UInt8]) {
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: frame)), promise: nil)
    }

    private func refuse(_ error: RemoteError, close: Bool = false) {
        send(.error(error.code, error.message))
        if close { outbox.yield(.close) }
    }

    // MARK: Receiving (the connection's task)

    func receive(text: String) {
        do { try handle(try WireFrame.decode(text: text), nil) } catch { answer(error) }
    }

    func receive(binary bytes: UnsafeRawBufferPointer) {
        // Nothing is decoded before the hello (a hello is a text frame).
        guard lock.withLock({ key != nil }) else {
            return refuse(.protocolError(.unauthorized, "the first message must be a hello with an API key"), close: true)
        }
        do {
            let (message, tensor) = try WireFrame.decode(binary: bytes)
            try handle(message, tensor)
        } catch {
            answer(error)
        }
    }

    private func answer(_ error: any Error) {
        let remote = error as? RemoteError ?? .protocolError(.server, "\(error)")
        refuse(remote)
    }

    private func handle(_ message: WireMessage, _ tensor: Tensor?) throws {
        lock.lock()
        let authenticated = key != nil
        lock.unlock()
        guard authenticated else { return try hello(message) }
        switch message.kind {
        case .trace: try startTrace(message)
        case .read, .write, .next, .apply, .finished, .failed, .step, .result, .cache, .barrier:
            guard let trace = message.trace, let invoke = message.invoke else {
                throw RemoteError.protocolError(.malformedFrame, "\(message.kind.rawValue) names no trace and invoke")
            }
            let job = try job(trace)
            guard job.invokes.indices.contains(invoke) else {
                throw RemoteError.protocolError(.unexpectedMessage, "trace \(trace) has no invoke \(invoke)")
            }
            if (message.kind == .write || message.kind == .apply) && tensor == nil {
                throw RemoteError.protocolError(.malformedFrame, "\(message.kind.rawValue) must come in a binary frame with its tensor")
            }
            job.invokes[invoke].mailbox.put(.message(message, tensor))
        case .capture, .fetch:
            // Answered at the request's number, errors too.
            do {
                if message.kind == .capture { try startCapture(message) } else { try fetch(message) }
            } catch {
                var refusal = ServerInvoke.errorMessage(for: error, trace: message.trace ?? -1, invoke: -1)
                refusal.invoke = nil
                send(refusal)
            }
        case .cancel:
            guard let trace = message.trace else { throw RemoteError.protocolError(.malformedFrame, "cancel names no trace") }
            server.scheduler.cancel(try job(trace), reason: .protocolError(.cancelled, "trace \(trace) was cancelled by the client"))
        case .hello:
            throw RemoteError.protocolError(.unexpectedMessage, "a second hello on one connection")
        default:
            throw RemoteError.protocolError(.unexpectedMessage, "\(message.kind.rawValue) is a server's message")
        }
    }

    private func job(_ trace: Int) throws -> TraceJob {
        lock.lock()
        defer { lock.unlock() }
        if let job = jobs[trace] { return job }
        if let reason = endedEarly[trace] { throw reason }
        throw RemoteError.protocolError(.unexpectedMessage, "no trace \(trace) is running on this connection")
    }

    /// The first message must be a hello with the server's protocol version and a known key.
    private func hello(_ message: WireMessage) throws {
        guard message.kind == .hello else {
            refuse(.protocolError(.unauthorized, "the first message must be a hello with an API key"), close: true)
            return
        }
        guard message.protocolVersion == RemoteProtocol.version else {
            var refusal = WireMessage.error(.versionMismatch,
                "protocol version mismatch: the client speaks protocol \(message.protocolVersion.map(String.init) ?? "(none)") (swift-nnsight \(message.libraryVersion ?? "unknown")), this server protocol \(RemoteProtocol.version) (swift-nnsight \(RemoteProtocol.libraryVersion))")
            refusal.protocolVersion = RemoteProtocol.version
            refusal.libraryVersion = RemoteProtocol.libraryVersion
            send(refusal)
            outbox.yield(.close)
            return
        }
        let entry: APIKeys.Entry
        if let keys = server.configuration.keys {
            guard let found = keys.entry(for: message.apiKey) else {
                logger.warning("refused a client: \(message.apiKey == nil ? "no" : "a wrong") API key")
                refuse(.protocolError(.unauthorized, message.apiKey == nil ? "an API key is required" : "the API key is not valid"), close: true)
                return
            }
            entry = found
        } else {
            entry = APIKeys.Entry(name: "anonymous", sha256: "")
        }
        lock.lock()
        key = entry
        limits = entry.limits ?? server.configuration.defaultLimits
        lock.unlock()
        logger.info("client connected with key \"\(entry.name)\" (swift-nnsight \(message.libraryVersion ?? "unknown"))")
        var welcome = WireMessage(kind: .welcome)
        welcome.protocolVersion = RemoteProtocol.version
        welcome.libraryVersion = RemoteProtocol.libraryVersion
        welcome.model = server.moduleTree
        welcome.limits = limits
        send(welcome)
    }

    /// Checks a trace's inputs and queues it.
    private func startTrace(_ message: WireMessage) throws {
        guard let trace = message.trace, let inputs = message.invokes else {
            throw RemoteError.protocolError(.malformedFrame, "a trace needs its number and its invokes")
        }
        lock.lock()
        let inUse = jobs[trace] != nil || endedEarly[trace] != nil
        let limits = self.limits, keyName = key?.name ?? "anonymous"
        lock.unlock()
        guard !inUse else { throw RemoteError.protocolError(.unexpectedMessage, "trace \(trace) was already used on this connection") }
        guard (1...256).contains(inputs.count) else {
            throw RemoteError.protocolError(.malformedFrame, "a trace has 1 to 256 invokes, not \(inputs.count)")
        }
        let scan = message.scan ?? false
        do {
            var invokes: [TraceJob.Invoke] = []
            var tokenCount = 0
            for input in inputs {
                guard input.hasInput else {
                    invokes.append(TraceJob.Invoke(tokens: nil))
                    continue
                }
                let rows = try server.tokenRows(input)
                tokenCount += rows.reduce(0) { $0 + $1.count }
                guard tokenCount <= limits.promptTokens else {
                    throw RemoteError.protocolError(.limitExceeded, "the trace's prompts exceed this key's \(limits.promptTokens) tokens")
                }
                invokes.append(TraceJob.Invoke(tokens: rows))
            }
            guard invokes.contains(where: { $0.tokens != nil }) else { throw NNsightError.noInput }
            try checkRunKind(message.generation, scan: scan, invokes: invokes, limits: limits)
            let job = TraceJob(session: self, trace: trace, invokes: invokes, limits: limits, keyName: keyName,
                               generation: message.generation, scan: scan, stream: message.stream ?? false)
            lock.lock()
            jobs[trace] = job
            lock.unlock()
            do {
                try server.scheduler.submit(job)
            } catch {
                lock.lock()
                jobs[trace] = nil
                lock.unlock()
                throw error
            }
        } catch {
            var refusal = ServerInvoke.errorMessage(for: error, trace: trace, invoke: -1)
            refusal.invoke = nil
            send(refusal)
        }
    }

    /// A generation's settings within this key's limits; a scan of one prompt, never generating.
    private func checkRunKind(_ generation: GenerationRequest?, scan: Bool, invokes: [TraceJob.Invoke], limits: KeyLimits) throws {
        if let generation {
            guard !scan else { throw RemoteError.protocolError(.malformedFrame, "a trace cannot both scan and generate") }
            guard generation.maxNewTokens >= 0 else {
                throw RemoteError.protocolError(.malformedFrame, "maxNewTokens must not be negative, got \(generation.maxNewTokens)")
            }
            guard generation.maxNewTokens <= limits.newTokens else {
                throw RemoteError.protocolError(.limitExceeded, "\(generation.maxNewTokens) new tokens exceed this key's \(limits.newTokens)")
            }
            guard generation.temperature.isFinite, generation.temperature >= 0, (generation.topK ?? 1) >= 1,
                  (generation.topP ?? 1) > 0, (generation.topP ?? 1) <= 1 else {
                throw RemoteError.protocolError(.malformedFrame, "invalid sampling settings (temperature ≥ 0, topK ≥ 1, 0 < topP ≤ 1)")
            }
        }
        if scan, invokes.filter({ $0.tokens != nil }).count != 1 {
            throw RemoteError.protocolError(.malformedFrame, "a scan takes one prompt")
        }
    }

    /// Checks a capture job's prompts and modules and queues it; answers with its id.
    private func startCapture(_ message: WireMessage) throws {
        guard let texts = message.texts, let paths = message.paths, !texts.isEmpty, !paths.isEmpty,
              texts.count <= 4096, paths.count <= 1024 else {
            throw RemoteError.protocolError(.malformedFrame, "a capture needs 1 to 4096 prompts (texts) and 1 to 1024 module paths")
        }
        let (limits, keyName) = lock.withLock { (self.limits, key?.name ?? "anonymous") }
        for path in paths { try server.model.root.checkCapturePath(path) }
        var prompts: [[Int]] = []
        for text in texts {
            let rows = try server.tokenRows(InvokeInput(texts: [text]))
            guard rows[0].count <= limits.promptTokens else {
                throw RemoteError.protocolError(.limitExceeded, "a prompt of \(rows[0].count) tokens exceeds this key's \(limits.promptTokens)")
            }
            prompts.append(rows[0])
        }
        let id = UUID().uuidString.lowercased()
        try server.scheduler.submit(capture: CaptureJobs.Job(id: id, keyName: keyName, prompts: prompts, paths: paths))
        var accepted = WireMessage(kind: .status, trace: message.trace)
        accepted.job = id
        accepted.state = .queued
        accepted.keptForSeconds = Int(server.configuration.captureRetention.seconds)
        send(accepted)
    }

    /// Answers a fetch: the job's state, or its result as a uint8 tensor of the safetensors bytes.
    private func fetch(_ message: WireMessage) throws {
        let (limits, keyName) = lock.withLock { (self.limits, key?.name ?? "anonymous") }
        guard let id = message.job, let job = server.scheduler.captureJobs.job(id, keyName: keyName) else {
            throw RemoteError.protocolError(.unexpectedMessage, "no capture job \(message.job ?? "(none)") (unknown, another key's, or expired)")
        }
        var answer = WireMessage(kind: .status, trace: message.trace)
        answer.job = id
        answer.state = job.state
        answer.message = job.error
        guard let data = job.result else { return send(answer) }
        answer.kind = .value
        guard data.count + 1024 <= limits.responseBytes else {
            throw RemoteError.protocolError(.limitExceeded, "capture \(id) is \(data.count) bytes, over this key's \(limits.responseBytes)-byte response limit")
        }
        let bytes = try data.withUnsafeBytes { try Tensor(bytes: $0, shape: [data.count], dtype: .uint8) }
        send(frame: try WireFrame.binary(answer, tensor: bytes))
    }

    /// The job's batch ended: later messages for it are answered as unexpected.
    func traceEnded(_ trace: Int) {
        lock.lock()
        jobs[trace] = nil
        endedEarly[trace] = .protocolError(.unexpectedMessage, "trace \(trace) has ended")
        // Remember the last traces only: a long-lived connection must not grow without bound.
        if endedEarly.count > 1024, let oldest = endedEarly.keys.min() { endedEarly[oldest] = nil }
        lock.unlock()
    }

    /// The connection closed: this client's traces are cancelled, nobody else's.
    func disconnected() {
        lock.lock()
        let open = Array(jobs.values)
        lock.unlock()
        for job in open {
            server.scheduler.cancel(job, reason: .protocolError(.cancelled, "the connection closed"))
        }
        outbox.finish()
        if !open.isEmpty { logger.info("client disconnected; cancelled \(open.count) of its traces") }
    }
}
