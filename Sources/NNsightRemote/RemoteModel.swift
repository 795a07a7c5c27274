import Foundation
import Logging
import NNsight
import NNsightNN
import NNsightTorch

/// A language model served by `nnsight serve`, traced with the same closures as a local
/// ``LanguageModel``: the closures run here, and each envoy access is one message to the server,
/// which runs the model (batched with other clients' traces) and serves the access at the module.
/// Python: `LanguageModel(..., remote=True)` / NDIF, without shipping code.
///
/// ```swift
/// let model = try RemoteModel(url: "ws://127.0.0.1:8000", apiKey: "my key")
/// let hidden = try model.trace("The Eiffel Tower is in") { m in try m.transformer.h[-1].output }
/// ```
///
/// A read costs one round trip. A value the closure changed in place is sent back before the
/// next access; `setOutput`, `setInput` and `skip` send their tensor. Calling an envoy
/// (`m.lm_head(h)`) runs the module on the server. What stays local-only throws
/// ``RemoteError/notAvailableRemotely(_:)``.
public final class RemoteModel: @unchecked Sendable {
    /// The envoys of the server's model (the module tree it sent at connect).
    public let envoys: EnvoyTree
    /// The limits the server applies to this key.
    public let limits: KeyLimits
    /// The server's library version.
    public let serverLibraryVersion: String
    let connection: RemoteConnection
    /// One trace at a time on this handle's connection.
    private let traceLock = NSLock()
    private let numberLock = NSLock()
    private var nextTrace = 0
    /// The status events of the last trace (queued with its position, running, completed, error).
    public private(set) var lastStatus: [WireMessage] = []
    /// Called on the tracing thread with each status event of a trace as it arrives (queued with
    /// its position, running with how many traces share the forward, completed, error).
    public var onStatus: ((WireMessage) -> Void)?

    /// Connects to the server at `url` (`ws://host:port`), authenticates with `apiKey` and receives
    /// the model's module tree. Throws ``RemoteError`` for a refused key or a protocol mismatch.
    public init(url: String, apiKey: String? = nil, timeout: Duration = .seconds(30),
                logger: Logger = Logger(label: "nnsight.remote")) throws {
        connection = RemoteConnection(url: url, logger: logger)
        var hello = WireMessage(kind: .hello)
        hello.protocolVersion = RemoteProtocol.version
        hello.libraryVersion = RemoteProtocol.libraryVersion
        hello.apiKey = apiKey
        do {
            try connection.send(hello)
            let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
            switch connection.mailbox(.init(trace: -1, invoke: -1)).take(before: Date(timeIntervalSinceNow: seconds)) {
            case .message(let welcome, _) where welcome.kind == .welcome:
                guard let tree = welcome.model else {
                    throw RemoteError.protocolError(.malformedFrame, "the welcome carries no module tree")
                }
                envoys = EnvoyTree(module: RemoteModule.build(tree, path: "model"))
                limits = welcome.limits ?? KeyLimits()
                serverLibraryVersion = welcome.libraryVersion ?? "unknown"
            case .message(let refusal, _) where refusal.kind == .error:
                if refusal.code == .versionMismatch {
                    throw RemoteError.versionMismatch(client: RemoteProtocol.version, clientLibrary: RemoteProtocol.libraryVersion,
                                                      server: refusal.protocolVersion ?? -1,
                                                      serverLibrary: refusal.libraryVersion ?? "unknown")
                }
                throw RemoteError.from(refusal)
            case .message(let other, _):
                throw RemoteError.protocolError(.unexpectedMessage, "expected a welcome, got \(other.kind.rawValue)")
            case .closed(let error): throw error
            case nil: throw RemoteError.connection("no welcome from \(url) within \(timeout)")
            }
        } catch {
            connection.shutDown()
            throw error
        }
    }

    deinit { connection.shutDown() }

    /// Closes the connection; later traces throw.
    public func close() { connection.shutDown() }

    /// The root envoy (`model`), for walking and printing the tree.
    public var root: Envoy { envoys.root }

    // MARK: Tracing

    /// Runs the model on `input` with `body` as the single invoke. Python:
    /// `with model.trace(input, remote=True): ...`.
    public func trace<T>(_ input: any PromptConvertible, _ body: (Envoy) throws -> T) throws -> T {
        try trace(input) { m, _ in try body(m) }
    }

    /// Like ``trace(_:_:)-(_,(Envoy)->T)``, with the tracer for `stop()`.
    public func trace<T>(_ input: any PromptConvertible, _ body: (Envoy, RemoteTracer) throws -> T) throws -> T {
        try withoutActuallyEscaping(body) { body in
            let tracer = RemoteTracer()
            var result: T?
            tracer.invoke(input) { [unowned tracer] m in result = try body(m, tracer) }
            try run(tracer)
            if let result { return result }
            // `stop()` ended the closure before it returned.
            if let nothing = () as? T { return nothing }
            throw RemoteError.protocolError(.cancelled, "stop() ended the trace before its closure returned a value")
        }
    }

    /// Runs the model once over the invokes `body` opens (batched with other clients' traces on
    /// the server), then returns what `body` returned. Python: `with model.trace(remote=True) as
    /// tracer: with tracer.invoke(...)`.
    @discardableResult
    public func trace<T>(_ body: (RemoteTracer) throws -> T) throws -> T {
        let tracer = RemoteTracer()
        let result = try body(tracer)
        try run(tracer)
        return result
    }

    /// Sends the trace, runs each invoke's closure on its own thread as the server starts it, and
    /// waits for the server's end of the trace. Throws the first invoke's error (in invoke order),
    /// else the trace's.
    private func run(_ tracer: RemoteTracer) throws {
        defer { tracer.invokes.removeAll() }
        guard tracer.invokes.contains(where: { $0.input.hasInput }) else { throw NNsightError.noInput }
        traceLock.lock()
        defer { traceLock.unlock() }
        let traceID = reserveRequestNumber()
        defer { connection.release(trace: traceID) }
        let status = connection.mailbox(.init(trace: traceID, invoke: -1))
        let invokes = tracer.invokes.indices.map { RemoteInvoke(connection: connection, trace: traceID, index: $0, tree: envoys) }
        var request = WireMessage(kind: .trace, trace: traceID)
        request.invokes = tracer.invokes.map(\.input)
        try connection.send(request)

        let errors = InvokeErrors(count: invokes.count)
        let group = DispatchGroup()
        let root = UncheckedBox(envoys.root!)
        // The closures are handed over in slots emptied once every thread is done, so no thread
        // holds one past `trace` (the single-invoke form wraps a non-escaping closure).
        let slots = tracer.invokes.map { BodySlot($0.body) }
        defer { slots.forEach { $0.body = nil } }
        for (invoke, slot) in zip(invokes, slots) {
            group.enter()
            Thread.detachNewThread {
                RemoteModel.runInvoke(invoke, slot, root: root.value, errors: errors)
                group.leave()
            }
        }
        var events: [WireMessage] = []
        var traceError: (any Error)?
        waiting: while true {
            switch status.take() {
            case .message(let message, _):
                events.append(message)
                onStatus?(message)
                if message.kind == .error { traceError = RemoteError.from(message); break waiting }
                if message.kind == .status, message.state == .completed { break waiting }
                if message.kind == .status, message.state == .error {
                    traceError = RemoteError.protocolError(message.code ?? .server, message.message ?? "the trace failed")
                    break waiting
                }
            case .closed(let error): traceError = error; break waiting
            case nil: break waiting
            }
        }
        if traceError != nil {
            // Invokes the server never started, or that wait for an answer that will not come.
            for invoke in invokes { invoke.mailbox.put(.closed(traceError!)) }
        }
        group.wait()
        lastStatus = events
        if let error = errors.first ?? traceError { throw error }
    }

    /// One invoke's thread: waits for the server's start, runs the closure, reports its end.
    private static func runInvoke(_ invoke: RemoteInvoke, _ slot: BodySlot, root: Envoy, errors: InvokeErrors) {
        if let error = invoke.waitForStart() {
            errors.set(error, at: invoke.index)
            return
        }
        guard let body = slot.body else { return }
        do {
            try invoke.run { try body(root) }
            invoke.end(nil)
        } catch is RemoteStop {
            invoke.end(nil)
        } catch {
            errors.set(error, at: invoke.index)
            invoke.end(error)
        }
    }

    /// A new number for a trace or a request on this connection.
    func reserveRequestNumber() -> Int {
        numberLock.withLock {
            nextTrace += 1
            return nextTrace
        }
    }

    /// Asks the server to cancel this handle's running or queued trace (from another thread).
    public func cancel() {
        var cancel = WireMessage(kind: .cancel, trace: numberLock.withLock { nextTrace })
        cancel.message = "cancelled by the client"
        try? connection.send(cancel)
    }

    /// Sends raw frames on this connection (for tests of the server's frame checks).
    public func sendRawFrame(binary bytes: [UInt8]) { connection.sendRaw(binary: bytes) }
    public func sendRawFrame(text: String) { connection.sendRaw(text: text) }
}

/// Collects the invokes of a remote trace. Python: the tracer of `model.trace(remote=True)`.
public final class RemoteTracer {
    struct Opened {
        let input: InvokeInput
        let body: (Envoy) throws -> Void
    }

    var invokes: [Opened] = []
    /// An input that could not be sent, raised when the trace runs.
    private var invalid: (any Error)?

    init() {}

    /// Adds an invoke over `input` (a string, strings, token ids or a tensor of ids); `body` sees
    /// only its rows. Python: `with tracer.invoke(input):`.
    public func invoke(_ input: any PromptConvertible, _ body: @escaping (Envoy) throws -> Void) {
        do {
            invokes.append(Opened(input: try InvokeInput(input), body: body))
        } catch {
            let failure = error
            invokes.append(Opened(input: InvokeInput(tokens: [[0]]), body: { _ in throw failure }))
        }
    }

    /// Adds a prompt-less invoke: `body` sees the rows of this trace's other invokes (never
    /// another client's). Python: `with tracer.invoke():`.
    public func invoke(_ body: @escaping (Envoy) throws -> Void) {
        invokes.append(Opened(input: InvokeInput(), body: body))
    }

    /// Ends this trace's invoke here; values taken so far are kept. Python: `tracer.stop()`.
    public func stop() throws -> Never { throw RemoteStop() }
}

/// Thrown by `stop()` inside a remote invoke.
struct RemoteStop: Error {}

extension InvokeInput {
    /// The wire form of a prompt: strings travel as text (the server tokenizes them), ids as ids.
    init(_ input: any PromptConvertible) throws {
        switch input {
        case let text as String: self.init(texts: [text])
        case let texts as [String]: self.init(texts: texts)
        case let ids as [Int]: self.init(tokens: [ids])
        case let rows as [[Int]]: self.init(tokens: rows)
        case let id as Int: self.init(tokens: [[id]])
        case let tensor as Tensor:
            switch tensor.rank {
            case 1: self.init(tokens: [try tensor.toArray(Int.self)])
            case 2:
                let width = try tensor.size(1), values = try tensor.toArray(Int.self)
                self.init(tokens: stride(from: 0, to: values.count, by: max(width, 1)).map { Array(values[$0..<($0 + width)]) })
            default: throw NNsightError.invalidInput("token ids must be [sequence] or [batch, sequence], got shape \(tensor.shape)")
            }
        default:
            throw RemoteError.notAvailableRemotely("a prompt of type \(type(of: input)) (send strings or token ids)")
        }
    }
}

/// The first error of each invoke, set from the invokes' threads.
private final class InvokeErrors: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [(any Error)?]

    init(count: Int) { errors = Array(repeating: nil, count: count) }

    func set(_ error: any Error, at index: Int) {
        lock.lock()
        errors[index] = error
        lock.unlock()
    }

    /// The error of the first invoke that failed, in invoke order, preferring the one that failed
    /// of its own accord over those cancelled because of it.
    var first: (any Error)? {
        lock.lock()
        defer { lock.unlock() }
        let failed = errors.compactMap { $0 }
        return failed.first { ($0 as? NNsightError) != .cancelled } ?? failed.first
    }
}

/// An invoke's closure, lent to its thread for the length of the trace.
private final class BodySlot: @unchecked Sendable {
    var body: ((Envoy) throws -> Void)?
    init(_ body: @escaping (Envoy) throws -> Void) { self.body = body }
}

/// Carries a value to a thread where the server's strict turn-taking makes it safe.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
