import Foundation
import Synchronization
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
/// (`m.lm_head(h)`) runs the module on the server. `generate` (with `iter`, `all`, `next`,
/// `result`), `cache`, `scan`, `edit`, `session`, `stop` and barriers work as on a local model;
/// edits live on this client's handle and never change the server's model. What stays
/// local-only (gradients through the server's tensors, `.inputs`' named arguments) throws
/// ``RemoteError/notAvailableRemotely(_:)``.
// @unchecked: the envoy tree is not Sendable (a trace's invokes use it one at a time, as the
// server serves them in turn); `lastStatus` and `onStatus` are kept under `statusLock`; traces of
// one connection take turns under `link.traceLock`.
public final class RemoteModel: @unchecked Sendable {
    /// The envoys of the server's model (the module tree it sent at connect).
    public let envoys: EnvoyTree
    /// The limits the server applies to this key.
    public let limits: KeyLimits
    /// The server's library version.
    public let serverLibraryVersion: String
    /// The connection, shared by handles made with ``edit(inplace:_:)``; closed when the last goes.
    let link: RemoteLink
    var connection: RemoteConnection { link.connection }
    /// This handle's edits: prompt-less invokes run first in each of its traces, on this client.
    let edits: RemoteEdits
    private let statusLock = NSLock()
    private var statusEvents: [WireMessage] = []
    private var statusHandler: ((WireMessage) -> Void)?
    /// The status events of the last trace (queued with its position, running, completed, error).
    public var lastStatus: [WireMessage] { statusLock.withLock { statusEvents } }
    /// Called on the tracing thread with each status event of a trace as it arrives (queued with
    /// its position, running with how many traces share the forward, completed, error).
    public var onStatus: ((WireMessage) -> Void)? {
        get { statusLock.withLock { statusHandler } }
        set { statusLock.withLock { statusHandler = newValue } }
    }

    /// Connects to the server at `url` (`ws://host:port`), authenticates with `apiKey` and receives
    /// the model's module tree. Throws ``RemoteError`` for a refused key or a protocol mismatch.
    public init(url: String, apiKey: String? = nil, timeout: Duration = .seconds(30),
                logger: Logger = Logger(label: "nnsight.remote")) throws {
        let connection = RemoteConnection(url: url, logger: logger)
        link = RemoteLink(connection)
        edits = RemoteEdits()
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

    /// A handle on the same connection and envoys with `edits`.
    init(sharing other: RemoteModel, edits: RemoteEdits) {
        envoys = other.envoys
        limits = other.limits
        serverLibraryVersion = other.serverLibraryVersion
        link = other.link
        self.edits = edits
        onStatus = other.onStatus
    }

    /// Closes the connection (of every handle sharing it); later traces throw.
    public func close() { connection.shutDown() }

    /// The root envoy (`model`), for walking and printing the tree.
    public var root: Envoy { envoys.root }

    // MARK: Tracing

    /// Runs the model on `input` with `body` as the single invoke. Python:
    /// `with model.trace(input, remote=True): ...`.
    public func trace<T>(_ input: any PromptConvertible, _ body: (Envoy) throws -> T) throws -> T {
        try trace(input) { m, _ in try body(m) }
    }

    /// Like ``trace(_:_:)-(_,(Envoy)->T)``, with the tracer for `stop()`, `cache(...)`, `result()`.
    public func trace<T>(_ input: any PromptConvertible, _ body: (Envoy, RemoteTracer) throws -> T) throws -> T {
        try runSingle(input, kind: .trace, body)
    }

    /// Runs the model once over the invokes `body` opens (batched with other clients' traces on
    /// the server), then returns what `body` returned. Python: `with model.trace(remote=True) as
    /// tracer: with tracer.invoke(...)`.
    @discardableResult
    public func trace<T>(_ body: (RemoteTracer) throws -> T) throws -> T {
        try runOpen(kind: .trace, body)
    }

    /// Runs `body` over `input` on the server's meta device: every value has its real shape and
    /// dtype but no data; nothing is computed. This handle's edits apply. Python: `model.scan(input)`.
    public func scan<T>(_ input: any PromptConvertible, _ body: (Envoy) throws -> T) throws -> T {
        try runSingle(input, kind: .scan) { m, _ in try body(m) }
    }

    /// Groups several traces, as a local `session` does: values flow between the traces as
    /// ordinary variables on this client (the closures never leave it, so there is nothing to
    /// ship together); the traces run in order on this handle's connection. Python:
    /// `with model.session(remote=True):`.
    public func session<T>(_ body: () throws -> T) rethrows -> T { try body() }

    /// Returns a handle whose every trace first runs `body` (a prompt-less invoke over that
    /// trace's rows, on this client). With `inplace: true`, this handle itself gets the edit. An
    /// edit belongs to this client's handles only: the server's model and other clients never
    /// see it. Python: `with model.edit(inplace=) as edited:`.
    @discardableResult
    public func edit(inplace: Bool = false, _ body: @escaping (Envoy) throws -> Void) -> RemoteModel {
        if inplace {
            edits.append(body)
            return self
        }
        return RemoteModel(sharing: self, edits: RemoteEdits(edits.bodies + [body]))
    }

    /// Removes every edit of this handle. Python: `model.clear_edits()`.
    public func clearEdits() { edits.removeAll() }

    /// How a remote trace runs on the server.
    enum Kind {
        case trace
        /// A generation; its chosen tokens go to the streamer as the server sends them.
        case generation(GenerationRequest, streamer: (any TokenStreamer)?)
        case scan
    }

    func runSingle<T>(_ input: any PromptConvertible, kind: Kind, _ body: (Envoy, RemoteTracer) throws -> T) throws -> T {
        try withoutActuallyEscaping(body) { body in
            let tracer = makeTracer(kind)
            var result: T?
            try tracer.invoke(input) { [unowned tracer] m in result = try body(m, tracer) }
            try run(tracer, kind: kind)
            if let result { return result }
            // `stop()` ended the closure before it returned.
            return try tracer.stoppedResult(as: T.self)
        }
    }

    func runOpen<T>(kind: Kind, _ body: (RemoteTracer) throws -> T) throws -> T {
        if RemoteInvoke.current != nil { throw NNsightError.invokeDuringExecution }
        let tracer = makeTracer(kind)
        let result = try body(tracer)
        try run(tracer, kind: kind)
        return result
    }

    private func makeTracer(_ kind: Kind) -> RemoteTracer {
        if case .generation = kind { return RemoteTracer(tree: envoys, isGeneration: true) }
        return RemoteTracer(tree: envoys, isGeneration: false)
    }

    /// Sends the trace, runs each invoke's closure on its own thread as the server starts it, and
    /// waits for the server's end of the trace (receiving the caches' values before it). Throws
    /// the first invoke's error (in invoke order), else the trace's.
    private func run(_ tracer: RemoteTracer, kind: Kind) throws {
        defer {
            tracer.invokes.removeAll()
            tracer.finished = true
        }
        if RemoteInvoke.current != nil { throw NNsightError.invokeDuringExecution }
        guard tracer.invokes.contains(where: { $0.input.hasInput }) else { throw NNsightError.noInput }
        // This handle's edits run first, as prompt-less invokes over the trace's rows.
        let opened = edits.bodies.map { RemoteTracer.Opened(input: InvokeInput(), body: $0) } + tracer.invokes
        if case .scan = kind, opened.filter(\.input.hasInput).count != 1 {
            throw RemoteError.notAvailableRemotely("a scan of several prompts (scan takes one input, as locally)")
        }
        link.traceLock.lock()
        defer { link.traceLock.unlock() }
        let traceID = reserveRequestNumber()
        defer { connection.release(trace: traceID) }
        let status = connection.mailbox(.init(trace: traceID, invoke: -1))
        let invokes = opened.indices.map { RemoteInvoke(connection: connection, trace: traceID, index: $0, shared: tracer.shared) }
        var request = WireMessage(kind: .trace, trace: traceID)
        request.invokes = opened.map(\.input)
        var streamer: (any TokenStreamer)?
        switch kind {
        case .trace: break
        case .generation(let settings, let tokens):
            request.generation = settings
            streamer = tokens
            if tokens != nil { request.stream = true }
        case .scan: request.scan = true
        }
        try connection.send(request)

        let errors = InvokeErrors(count: invokes.count)
        let group = DispatchGroup()
        let root = UncheckedBox(envoys.root!)
        // The closures are handed over in slots emptied once every thread is done, so no thread
        // holds one past `trace` (the single-invoke form wraps a non-escaping closure).
        let slots = opened.map { BodySlot($0.body) }
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
        let onStatus = self.onStatus
        waiting: while true {
            switch status.take() {
            case .message(let message, let tensor):
                if message.kind == .cached {
                    do { try tracer.shared.receive(message, tensor) } catch { traceError = error }
                    continue
                }
                if message.kind == .tokens {
                    if let tokens = message.tokens { streamer?.receive(tokens) }
                    continue
                }
                events.append(message)
                onStatus?(message)
                if message.kind == .error { traceError = RemoteError.from(message); break waiting }
                if message.kind == .status, message.state == .completed { break waiting }
                if message.kind == .status, message.state == .error {
                    // An engine or libtorch error of the run arrives as the same type as locally.
                    traceError = RemoteError.from(message)
                    break waiting
                }
            case .closed(let error): traceError = error; break waiting
            case nil: break waiting
            }
        }
        // As locally, the streamer is finished when the generation ends, normally or not.
        streamer?.finish()
        if traceError != nil {
            // Invokes the server never started, or that wait for an answer that will not come.
            for invoke in invokes { invoke.mailbox.put(.closed(traceError!)) }
        }
        group.wait()
        statusLock.withLock { statusEvents = events }
        // As locally: when the run itself failed, invokes cancelled because of it yield to its error.
        if let traceError, errors.allCancelled { throw traceError }
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
            invoke.end(nil, stopped: true)
        } catch {
            errors.set(error, at: invoke.index)
            invoke.end(error)
        }
    }

    /// A new number for a trace or a request on this connection.
    func reserveRequestNumber() -> Int { link.reserveNumber() }

    /// Asks the server to cancel this handle's running or queued trace (from another thread).
    public func cancel() {
        var cancel = WireMessage(kind: .cancel, trace: link.lastNumber)
        cancel.message = "cancelled by the client"
        try? connection.send(cancel)
    }

    /// Sends raw frames on this connection (for tests of the server's frame checks).
    public func sendRawFrame(binary bytes: [UInt8]) { connection.sendRaw(binary: bytes) }
    public func sendRawFrame(text: String) { connection.sendRaw(text: text) }
}

/// The connection of a model handle and of the handles made from it by `edit`: one trace at a
/// time, numbered requests, and the socket closed when the last handle is gone.
final class RemoteLink: Sendable {
    let connection: RemoteConnection
    let traceLock = NSLock()
    /// The last number handed out (an atomic counter: uncontended, and ThreadSanitizer sees it).
    private let number = Atomic<Int>(0)

    init(_ connection: RemoteConnection) { self.connection = connection }

    deinit { connection.shutDown() }

    func reserveNumber() -> Int { number.add(1, ordering: .sequentiallyConsistent).newValue }

    var lastNumber: Int { number.load(ordering: .sequentiallyConsistent) }
}

/// A remote handle's edits (closures run on the client as the first invokes of each trace).
// @unchecked: the closures are not Sendable; the list is read and changed only under `lock`, and
// each closure runs on one invoke's thread at a time.
final class RemoteEdits: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [(Envoy) throws -> Void]

    init(_ bodies: [(Envoy) throws -> Void] = []) { stored = bodies }

    var bodies: [(Envoy) throws -> Void] { lock.withLock { stored } }
    func append(_ body: @escaping (Envoy) throws -> Void) { lock.withLock { stored.append(body) } }
    func removeAll() { lock.withLock { stored.removeAll() } }
}

/// The first error of each invoke, set from the invokes' threads.
// @unchecked: `errors` only under `lock` (any Error is Sendable; the array is not an atomic value).
private final class InvokeErrors: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [(any Error)?]

    init(count: Int) { errors = Array(repeating: nil, count: count) }

    func set(_ error: any Error, at index: Int) {
        lock.lock()
        errors[index] = error
        lock.unlock()
    }

    /// True when no invoke failed but by cancellation (``NNsightError/cancelled``), or none failed.
    var allCancelled: Bool {
        lock.withLock { errors.allSatisfy { $0 == nil || ($0 as? NNsightError) == .cancelled } }
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
// @unchecked: a slot's closure is lent to exactly one invoke thread, and emptied only after
// `group.wait()` has seen that thread finish.
private final class BodySlot: @unchecked Sendable {
    var body: ((Envoy) throws -> Void)?
    init(_ body: @escaping (Envoy) throws -> Void) { self.body = body }
}

/// Carries a value to a thread where the server's strict turn-taking makes it safe.
// @unchecked: by definition; used only for the root envoy handed to invoke threads that the
// server runs strictly in turn.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
