import Foundation
import NNsight
import NNsightNN
import NNsightTorch

/// One invoke of a remote trace, on the client: its closure runs on its own thread, and each
/// envoy access becomes a message to the server, answered by the server's invoke at the module.
/// The server runs invokes strictly in turn, so at most one closure of a trace runs at a time,
/// as in a local trace.
// @unchecked: its mutable fields (`deferredError`, `handedOut`) are used only on the invoke's own
// thread, the one that runs its closure (RemoteEnvoyAccessScope.current there); the rest is `let`.
final class RemoteInvoke: RemoteEnvoyAccess, @unchecked Sendable {
    let connection: RemoteConnection
    let trace: Int
    let index: Int
    let treeIdentity: UInt64
    let mailbox: Mailbox
    /// What the trace's invokes share (caches, barriers, whether it generates).
    let shared: RemoteTraceState
    /// An error a loop's turn could not throw; raised at the invoke's next access, as locally.
    private var deferredError: (any Error)?
    /// Values read since the last message: if the closure changes one in place, its new contents
    /// are sent back before anything else (the server still holds the model at that module).
    private var handedOut: [(path: String, key: WireValueKey, value: Tensor, snapshot: Tensor)] = []

    init(connection: RemoteConnection, trace: Int, index: Int, shared: RemoteTraceState) {
        self.connection = connection
        self.trace = trace
        self.index = index
        self.shared = shared
        treeIdentity = shared.tree.identity
        mailbox = connection.mailbox(.init(trace: trace, invoke: index))
    }

    /// The invoke running on this thread.
    static var current: RemoteInvoke? { RemoteEnvoyAccessScope.current as? RemoteInvoke }

    /// Waits for the server to start this invoke. False when the trace ended first.
    func waitForStart() -> (any Error)? {
        switch mailbox.take() {
        case .message(let message, _) where message.kind == .start: return nil
        case .message(let message, _) where message.kind == .error: return RemoteError.from(message)
        case .message(let message, _):
            return RemoteError.protocolError(.unexpectedMessage, "expected the start of invoke \(index), got \(message.kind.rawValue)")
        case .closed(let error): return error
        case nil: return RemoteError.connection("no start")
        }
    }

    /// Runs `body` with this invoke as the envoys' backend.
    func run(_ body: () throws -> Void) throws {
        try RemoteEnvoyAccessScope.$current.withValue(self) {
            try body()
            try raisePending()
            try sendChanges()
        }
    }

    private func message(_ kind: MessageKind, path: String? = nil, key: WireValueKey? = nil) -> WireMessage {
        var message = WireMessage(kind: kind, trace: trace, invoke: index)
        message.path = path
        message.key = key
        return message
    }

    /// Waits for the answer to the message just sent: a value, an ack, or an error (raised).
    private func answer() throws -> Tensor? {
        switch mailbox.take() {
        case .message(let message, let tensor):
            switch message.kind {
            case .value: return tensor
            case .ack: return nil
            case .error: throw RemoteError.from(message)
            default: throw RemoteError.protocolError(.unexpectedMessage, "invoke \(index) got \(message.kind.rawValue) while waiting for an answer")
            }
        case .closed(let error): throw error
        case nil: throw RemoteError.connection("no answer")
        }
    }

    private func raisePending() throws {
        if let error = deferredError {
            deferredError = nil
            throw error
        }
    }

    /// Sends the new contents of values the closure changed in place since the last message
    /// (a scan's meta values have no contents: nothing to send).
    func sendChanges() throws {
        try raisePending()
        guard !handedOut.isEmpty else { return }
        let values = handedOut
        handedOut.removeAll()
        for (path, key, value, snapshot) in values where value.device != .meta {
            guard try !value.equal(snapshot) else { continue }
            var write = message(.write, path: path, key: key)
            write.mode = .inPlace
            try connection.send(write, tensor: value)
            _ = try answer()
        }
    }

    // MARK: RemoteEnvoyAccess

    func read(_ envoy: Envoy, _ key: ValueKey) throws -> Tensor {
        try sendChanges()
        let wireKey = try wire(key)
        try connection.send(message(.read, path: envoy.path, key: wireKey))
        guard let value = try answer() else {
            throw RemoteError.protocolError(.unexpectedMessage, "a read of \(envoy.path).\(key.rawValue) was answered without a value")
        }
        handedOut.append((envoy.path, wireKey, value, value.device == .meta ? value : try value.clone()))
        return value
    }

    func write(_ envoy: Envoy, _ key: ValueKey, _ value: Tensor) throws {
        try sendChanges()
        var write = message(.write, path: envoy.path, key: try wire(key))
        write.mode = .replace
        try connection.send(write, tensor: value)
        _ = try answer()
    }

    func advance(_ envoy: Envoy, by count: Int) throws {
        try sendChanges()
        var next = message(.next, path: envoy.path)
        next.count = count
        try connection.send(next)
    }

    func lastContext(_ envoy: Envoy) throws -> ForwardContext {
        throw RemoteError.notAvailableRemotely("`\(envoy.path).inputs` (the call's named arguments stay on the server; read `.input`)")
    }

    func beginStep(_ step: Int, openEnded: Bool) -> Bool {
        do {
            if openEnded && !shared.isGeneration {
                // As locally: an open loop outside generation would never end.
                throw NNsightError.invalidInput("an open-ended iter needs generate(...); bound it, e.g. iter(0..<3)")
            }
            try sendChanges()
            var begin = message(.step)
            begin.step = step
            try connection.send(begin)
            return try acknowledged(step: true)
        } catch {
            deferredError = error
            return false
        }
    }

    func wait(at barrier: Barrier) throws {
        try sendChanges()
        var wait = message(.barrier)
        wait.barrier = shared.number(of: barrier)
        wait.count = barrier.count
        try connection.send(wait)
        _ = try acknowledged(step: false)
    }

    func unavailable(_ what: String) -> any Error { RemoteError.notAvailableRemotely(what) }

    /// `tracer.next(count)`: every later request addresses the call `count` further on.
    func advanceAll(by count: Int) throws {
        try sendChanges()
        var next = message(.next)
        next.count = count
        try connection.send(next)
    }

    /// `tracer.result()`.
    func result() throws -> Tensor {
        try sendChanges()
        try connection.send(message(.result))
        guard let value = try answer() else {
            throw RemoteError.protocolError(.unexpectedMessage, "tracer.result() was answered without a value")
        }
        return value
    }

    /// `tracer.cache(...)`: the server records for this invoke; the values arrive at the end.
    func startCache(modules: [Envoy]?, includeInputs: Bool, includeOutputs: Bool) throws -> Cache {
        try sendChanges()
        let (cache, number) = shared.newCache(includeInputs: includeInputs, includeOutputs: includeOutputs)
        var start = message(.cache)
        start.cache = number
        start.paths = modules?.map(\.path)
        start.includeInputs = includeInputs
        start.includeOutputs = includeOutputs
        try connection.send(start)
        _ = try acknowledged(step: false)
        return cache
    }

    /// Waits for an `ack` (or the error that answers instead); for a step, whether it began.
    private func acknowledged(step: Bool) throws -> Bool {
        switch mailbox.take() {
        case .message(let message, _):
            switch message.kind {
            case .ack: return message.began ?? !step
            case .error: throw RemoteError.from(message)
            default: throw RemoteError.protocolError(.unexpectedMessage, "invoke \(index) got \(message.kind.rawValue) while waiting for an ack")
            }
        case .closed(let error): throw error
        case nil: throw RemoteError.connection("no answer")
        }
    }

    /// Runs the module at `path` on the server over `input` (no hooks fire). Python: calling an
    /// envoy inside a trace, `model.lm_head(h)`.
    func apply(path: String, to input: Tensor) throws -> Tensor {
        try sendChanges()
        try connection.send(message(.apply, path: path), tensor: input)
        guard let value = try answer() else {
            throw RemoteError.protocolError(.unexpectedMessage, "calling \(path) was answered without a value")
        }
        return value
    }

    /// The client's end of the invoke: finished (`stopped` by `stop()`), or failed with `error`.
    func end(_ error: (any Error)?, stopped: Bool = false) {
        var end = message(error == nil ? .finished : .failed)
        if let error { end.message = "\(error)" }
        if stopped { end.stopped = true }
        try? connection.send(end)
    }

    private func wire(_ key: ValueKey) throws -> WireValueKey {
        switch key {
        case .output: .output
        case .input: .input
        case .skip: .skip
        case .step, .result: throw RemoteError.protocolError(.unexpectedMessage, "\(key.rawValue) is not a module's value")
        }
    }
}
