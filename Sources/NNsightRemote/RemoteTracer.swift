import Foundation
import NNsight
import NNsightTorch

/// Collects the invokes of a remote trace or generation and offers the tracer's operations to
/// their closures, as a local `Tracer` does: `iter`, `all`, `next`, `result`, `cache`,
/// `barrier`, `stop`. The closures run here; each operation is one message to the server.
/// Python: the tracer of `model.trace(remote=True)` / `model.generate(remote=True)`.
public final class RemoteTracer {
    struct Opened {
        let input: InvokeInput
        let body: (Envoy) throws -> Void
    }

    var invokes: [Opened] = []
    /// True once this tracer's trace has run: its invokes can never run again.
    var finished = false
    /// The state the trace's invokes share (caches, barriers).
    let shared: RemoteTraceState
    /// What `stop(returning:)` gave, for the single-invoke forms.
    var stopValue: Any?

    init(tree: EnvoyTree, isGeneration: Bool) {
        shared = RemoteTraceState(tree: tree, isGeneration: isGeneration)
    }

    /// Adds an invoke over `input` (a string, strings, token ids or a tensor of ids); `body` sees
    /// only its rows. Python: `with tracer.invoke(input):`.
    /// Throws the input's conversion error, or ``NNsightError/tracerFinished`` after the trace ran.
    public func invoke(_ input: any PromptConvertible, _ body: @escaping (Envoy) throws -> Void) throws {
        if RemoteInvoke.current != nil { throw NNsightError.invokeDuringExecution }
        if finished { throw NNsightError.tracerFinished }
        invokes.append(Opened(input: try InvokeInput(input), body: body))
    }

    /// Adds a prompt-less invoke: `body` sees the rows of this trace's other invokes (never
    /// another client's). Python: `with tracer.invoke():`.
    public func invoke(_ body: @escaping (Envoy) throws -> Void) throws {
        if RemoteInvoke.current != nil { throw NNsightError.invokeDuringExecution }
        if finished { throw NNsightError.tracerFinished }
        invokes.append(Opened(input: InvokeInput(), body: body))
    }

    /// Ends this invoke here; values taken so far are kept. When the trace has the server's
    /// forward to itself the model run ends too, as locally; in a forward shared with other
    /// clients only this invoke ends. Python: `tracer.stop()`.
    public func stop() throws -> Never {
        try requireInvoke("tracer.stop", "call")
        throw RemoteStop()
    }

    /// Like ``stop()``, and makes `value` the result of a single-invoke trace or generation.
    public func stop<Value>(returning value: Value) throws -> Never {
        try requireInvoke("tracer.stop", "call")
        stopValue = value
        throw RemoteStop()
    }

    /// The steps `steps` of a generation (Python: `tracer.iter[a:b]`); each turn of the loop
    /// waits until the server begins that step.
    public func iter(_ steps: Range<Int>) -> StepSequence { StepSequence(steps: Array(steps), start: 0) }
    /// The steps `steps` (Python: `tracer.iter[a:b+1]`).
    public func iter(_ steps: ClosedRange<Int>) -> StepSequence { StepSequence(steps: Array(steps), start: 0) }
    /// Every step from `steps.lowerBound` until generation ends (Python: `tracer.iter[a:]`).
    public func iter(_ steps: PartialRangeFrom<Int>) -> StepSequence { StepSequence(steps: nil, start: steps.lowerBound) }
    /// The listed steps, in order (Python: `tracer.iter[[0, 2, 4]]`).
    public func iter(_ steps: [Int]) -> StepSequence { StepSequence(steps: steps, start: 0) }
    /// One step (Python: `tracer.iter[i]`).
    public func iter(_ step: Int) -> StepSequence { StepSequence(steps: [step], start: 0) }
    /// Every step until generation ends (Python: `tracer.all()`).
    public func all() -> StepSequence { StepSequence(steps: nil, start: 0) }

    /// Moves the invoke on to the next step: later requests address call `n + count` of every
    /// module. Python: `tracer.next()`.
    public func next(_ count: Int = 1) throws {
        try requireInvoke("tracer.next", "call").advanceAll(by: count)
    }

    /// The run's result for this invoke's rows, once the model returned: the generated ids of a
    /// generation, the logits of a trace. Python: `tracer.result`.
    public func result() throws -> Tensor {
        try requireInvoke("tracer.result", "access").result()
    }

    /// Records the outputs (and, with `includeInputs`, the inputs) of `modules` (every module
    /// when nil) for this invoke from the next module call on. The server records them and sends
    /// them when the run ends: read the cache after the trace. Python: `tracer.cache(modules=)`.
    public func cache(modules: [Envoy]? = nil, includeInputs: Bool = false, includeOutputs: Bool = true) throws -> Cache {
        try requireInvoke("tracer.cache", "create").startCache(modules: modules, includeInputs: includeInputs,
                                                                includeOutputs: includeOutputs)
    }

    /// A barrier that `count` of this trace's invokes wait at together. Python: `tracer.barrier(n)`.
    public func barrier(_ count: Int) -> Barrier { Barrier(count: count) }

    /// Where `log` writes its lines; standard output when nil.
    public var onLog: ((String) -> Void)?

    /// Prints its items, separated by spaces, as one line, from inside an invoke (on this
    /// client: the closures run here). Python: `tracer.log(...)`.
    public func log(_ items: Any...) {
        let line = items.map { "\($0)" }.joined(separator: " ")
        if let onLog { onLog(line) } else { print(line) }
    }

    @discardableResult
    private func requireInvoke(_ requester: String, _ action: String) throws -> RemoteInvoke {
        guard let invoke = RemoteInvoke.current, invoke.shared === shared else {
            throw NNsightError.outsideInterleaving(requester: requester, action: action)
        }
        return invoke
    }

    /// The result of a single-invoke trace whose closure was ended by `stop()`.
    func stoppedResult<T>(as type: T.Type) throws -> T {
        defer { stopValue = nil }
        if let value = stopValue {
            guard let typed = value as? T else {
                throw NNsightError.stopResultType(expected: "\(T.self)", got: "\(Swift.type(of: value))")
            }
            return typed
        }
        let none: Any? = nil
        if let unit = () as? T { return unit }
        if let nothing = none as? T { return nothing }
        throw NNsightError.stoppedWithoutResult(expected: "\(T.self)")
    }
}

/// Thrown by `stop()` inside a remote invoke.
struct RemoteStop: Error {}

/// What the invokes of one remote trace share: whether it generates, its barriers' numbers and
/// its caches (filled from the `cached` frames the server sends when the run ends).
// @unchecked: `barriers` and `caches` only under `lock`; the envoy tree (not Sendable) is only read
// here, and the server runs a trace's invokes strictly in turn.
final class RemoteTraceState: @unchecked Sendable {
    let tree: EnvoyTree
    let isGeneration: Bool
    private let lock = NSLock()
    private var barriers: [(barrier: Barrier, number: Int)] = []
    private var caches: [Cache] = []

    init(tree: EnvoyTree, isGeneration: Bool) {
        self.tree = tree
        self.isGeneration = isGeneration
    }

    /// The trace's number for `barrier` (the same for every invoke that waits at it).
    func number(of barrier: Barrier) -> Int {
        lock.withLock {
            if let known = barriers.first(where: { $0.barrier === barrier }) { return known.number }
            barriers.append((barrier, barriers.count))
            return barriers.count - 1
        }
    }

    /// A new cache and its number.
    func newCache(includeInputs: Bool, includeOutputs: Bool) -> (Cache, Int) {
        lock.withLock {
            let cache = Cache(includesInputs: includeInputs, includesOutputs: includeOutputs, tree: tree)
            caches.append(cache)
            return (cache, caches.count - 1)
        }
    }

    /// Records one `cached` frame in its cache.
    func receive(_ message: WireMessage, _ tensor: Tensor?) throws {
        guard let number = message.cache, let path = message.path, let tensor,
              let cache = lock.withLock({ caches.indices.contains(number) ? caches[number] : nil }) else {
            throw RemoteError.protocolError(.malformedFrame, "a cached value names no cache of this trace, or no path")
        }
        if message.key == .input { cache.record(input: tensor, at: path) } else { cache.record(output: tensor, at: path) }
    }
}

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
