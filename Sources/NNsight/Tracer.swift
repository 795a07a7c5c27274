import NNsightNN
import NNsightTorch

/// A model that the intervention engine can run: it turns the inputs of a trace's invokes into
/// one batch and runs its forward pass over it.
public protocol InterleavedModel: AnyObject {
    /// What `trace(_:)` and `invoke(_:)` accept.
    associatedtype Input

    /// The envoys of the wrapped model.
    var envoys: EnvoyTree { get }

    /// The edits that run first in every trace of this handle: the handle's own list, never
    /// shared with another model (a model that is not an ``EditableModel`` keeps it empty:
    /// `let edits = Edits()`).
    var edits: Edits { get }

    /// Combines the inputs of the input invokes (in order) into one batch: the rows each
    /// covers, and how to run the model on the batch.
    func batch(_ inputs: [Input]) throws -> PreparedBatch
}

/// The batch of a trace, ready to run.
public struct PreparedBatch {
    /// The rows of each input invoke, in order.
    public var rows: [Range<Int>]
    /// True when `run` generates several steps and reports them through its `RunEvents`.
    public var isGeneration: Bool
    /// Runs the model over the whole batch (its root module through its hooked call path),
    /// reporting generation steps and the result through the events.
    public var run: (RunEvents) throws -> Void

    public init(rows: [Range<Int>], isGeneration: Bool = false, run: @escaping (RunEvents) throws -> Void) {
        self.rows = rows
        self.isGeneration = isGeneration
        self.run = run
    }
}

/// What a running model tells the engine besides module calls: where generation steps begin,
/// and the run's result (the logits of a forward pass, the ids of a generation).
public final class RunEvents {
    private let interleaver: Interleaver

    init(_ interleaver: Interleaver) {
        self.interleaver = interleaver
    }

    /// Generation step `step` is about to run the model (step 0 is the prompt).
    public func stepWillBegin(_ step: Int) throws { try interleaver.serveStep(step) }

    /// The run's result, read by `tracer.result()`.
    public func deliver(result: Tensor) throws { try interleaver.serveResult(result) }
}

/// Collects the invokes of a trace and offers the operations of its closures.
/// Python: the object of `with model.trace() as tracer:`.
public final class Tracer<Model: InterleavedModel> {
    let model: Model
    /// The inputs of the input invokes, in order.
    private var inputs: [Model.Input] = []
    /// Every invoke's closure, in order, and whether it has an input. (Kept apart from the
    /// inputs so that running a trace needs no generic code beyond `prepare`.)
    private var bodies: [InvokeBody] = []
    /// Turns the inputs into the batch to run (the model's forward pass unless told otherwise).
    private let prepare: ([Model.Input]) throws -> PreparedBatch

    init(model: Model, prepare: (([Model.Input]) throws -> PreparedBatch)? = nil) {
        self.model = model
        self.prepare = prepare ?? { try model.batch($0) }
    }

    /// Adds an invoke over `input`: its rows join the batch, and `body` sees only them.
    /// Python: `with tracer.invoke(input):`.
    /// Throws ``NNsightError/invokeDuringExecution`` inside a running invoke and
    /// ``NNsightError/tracerFinished`` on a tracer whose trace has already run.
    public func invoke(_ input: Model.Input, _ body: @escaping (Envoy) throws -> Void) throws {
        try register(InvokeBody(hasInput: true, body: body))
        inputs.append(input)
    }

    /// Adds a prompt-less invoke: `body` sees and edits the whole batch.
    /// Python: `with tracer.invoke():`.
    public func invoke(_ body: @escaping (Envoy) throws -> Void) throws {
        try register(InvokeBody(hasInput: false, body: body))
    }

    /// Adds a prompt-less invoke that sees only the rows of the input invokes at positions
    /// `inputInvokes` (counted among the input invokes), not the whole batch: a remote client's
    /// prompt-less invoke in a batch shared with other clients.
    package func invoke(coveringInputInvokes inputInvokes: Range<Int>, _ body: @escaping (Envoy) throws -> Void) throws {
        try register(InvokeBody(hasInput: false, body: body, covering: inputInvokes))
    }

    private func register(_ invoke: InvokeBody) throws {
        if Mediator.current != nil { throw NNsightError.invokeDuringExecution }
        if finished { throw NNsightError.tracerFinished }
        bodies.append(invoke)
    }

    /// True once this tracer's trace has run (or failed): its invokes can never run again.
    private var finished = false

    /// What `stop(returning:)` gave, for the single-invoke forms (set on the invoke's worker,
    /// read after the run, in turn).
    private var stopValue: Any?

    /// Ends the model run here: later modules do not run; values taken so far are kept.
    /// Python: `tracer.stop()`.
    ///
    /// In the single-invoke forms (`trace(input) { m, t in … }`, `generate(input) { m, t in … }`)
    /// the closure cannot return after `stop()`: the trace then returns `()` or `nil` when the
    /// closure's result is `Void` or optional, and otherwise throws
    /// ``NNsightError/stoppedWithoutResult(expected:)``; use ``stop(returning:)`` to give the
    /// result. Called anywhere but inside an invoke of this tracer's model, it throws
    /// ``NNsightError/outsideInterleaving(requester:action:)``.
    public func stop() throws -> Never {
        try requireRunningInvoke()
        throw EarlyStop()
    }

    /// Ends the model run here, like ``stop()``, and makes `value` the result of a
    /// single-invoke trace or generation. Its type must be the closure's result type (else the
    /// trace throws ``NNsightError/stopResultType(expected:got:)``); in an invoke of
    /// `trace { t in try t.invoke(…) { … } }` the value is not used.
    ///
    /// ```swift
    /// let hidden = try model.trace(ids) { m, t -> Tensor in
    ///     try t.stop(returning: try m.transformer.h[0].output)    // the later layers never run
    /// }
    /// ```
    public func stop<Value>(returning value: Value) throws -> Never {
        try requireRunningInvoke()
        stopValue = value
        throw EarlyStop()
    }

    /// Throws unless called inside a running invoke of this tracer's model.
    private func requireRunningInvoke() throws {
        guard let mediator = Mediator.current, mediator.treeIdentity == model.envoys.identity else {
            throw NNsightError.outsideInterleaving(requester: "tracer.stop", action: "call")
        }
    }

    /// A barrier that `count` invokes wait at together. Python: `tracer.barrier(n)`.
    public func barrier(_ count: Int) -> Barrier { Barrier(count: count) }

    /// Where `log` writes its lines; standard output when nil. Set it in the trace's body (before
    /// the model runs) to collect the lines instead, e.g. to show or forward them.
    public var onLog: ((String) -> Void)?

    /// Prints its items, separated by spaces, as one line, from inside an invoke: the lines of
    /// several invokes come in the order the model serves them. Python: `tracer.log(...)`.
    public func log(_ items: Any...) {
        let line = items.map { "\($0)" }.joined(separator: " ")
        if let onLog { onLog(line) } else { print(line) }
    }

    /// Told, on the model's thread, of each value that several invokes wait at, before any of
    /// them is served (the remote server's early sends).
    package var onValueReached: ((ValueReached) -> Void)?
    /// Told, on the model's thread, of each generation step that several invokes wait to begin,
    /// before any of them continues (the remote server's early acknowledgements).
    package var onStepReached: ((StepReached) -> Void)?

    /// Runs `body` as the only invoke, over `input`, and returns its value.
    func runSingle<T>(_ input: Model.Input, _ body: (Envoy, Tracer<Model>) throws -> T) throws -> T {
        try withoutActuallyEscaping(body) { body in
            var result: T?
            try invoke(input) { [unowned self] in result = try body($0, self) }
            try run()
            if let result { return result }
            return try stoppedResult(as: T.self)
        }
    }

    /// The result of a single-invoke trace whose closure was ended by `stop()`: the value given
    /// to `stop(returning:)`, else `()` or `nil` when `T` allows it.
    private func stoppedResult<T>(as type: T.Type) throws -> T {
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

    /// Lets `body` open the invokes, then runs them; returns what `body` returned.
    func runOpen<T>(_ body: (Tracer<Model>) throws -> T) throws -> T {
        if Mediator.current != nil { throw NNsightError.invokeDuringExecution }
        let result = try body(self)
        try run()
        return result
    }

    /// Runs the model once over the invokes' batch, with their closures interleaved.
    func run() throws {
        // The invokes' closures capture this tracer; dropping them ends that cycle.
        defer {
            bodies.removeAll()
            inputs.removeAll()
            finished = true
        }
        if Mediator.current != nil { throw NNsightError.invokeDuringExecution }
        guard !inputs.isEmpty else { throw NNsightError.noInput }
        let tree = model.envoys
        tree.runLock.lock()
        defer { tree.runLock.unlock() }
        try runInterleaved(tree: tree, edits: model.edits.bodies, invokes: bodies, batch: try prepare(inputs),
                           onValueReached: onValueReached, onStepReached: onStepReached)
    }
}

/// One invoke's closure, and whether the invoke has an input (rows of its own).
struct InvokeBody {
    let hasInput: Bool
    let body: (Envoy) throws -> Void
    /// For a prompt-less invoke: the input invokes whose rows it covers (nil: the whole batch).
    var covering: Range<Int>? = nil
}

/// Runs `batch` with the edits and then the invokes interleaved, each on its rows.
private func runInterleaved(tree: EnvoyTree, edits: [(Envoy) throws -> Void], invokes: [InvokeBody],
                            batch: PreparedBatch, onValueReached: ((ValueReached) -> Void)? = nil,
                            onStepReached: ((StepReached) -> Void)? = nil) throws {
    let root = tree.root!
    var rows = batch.rows.makeIterator()
    // Edits run first, as prompt-less invokes over the whole batch.
    var bodies: [(rows: Range<Int>?, body: () throws -> Void)] = []
    bodies.reserveCapacity(edits.count + invokes.count)
    for edit in edits { bodies.append((nil, { try edit(root) })) }
    for invoke in invokes {
        var invokeRows = invoke.hasInput ? rows.next() : nil
        if let covering = invoke.covering, !covering.isEmpty, covering.upperBound <= batch.rows.count {
            invokeRows = batch.rows[covering.lowerBound].lowerBound..<batch.rows[covering.upperBound - 1].upperBound
        }
        bodies.append((invokeRows, { try invoke.body(root) }))
    }
    let interleaver = Interleaver(tree: tree, batchSize: batch.rows.last?.upperBound ?? 0,
                                  inputInvokes: batch.rows.count, isGeneration: batch.isGeneration)
    interleaver.onValueReached = onValueReached
    interleaver.onStepReached = onStepReached
    let events = RunEvents(interleaver)
    try interleaver.run(invokes: bodies) { try batch.run(events) }
}

extension InterleavedModel {
    /// Runs the model on `input` with `body` as the single invoke, and returns what `body`
    /// returns. Python: `with model.trace(input): ...`.
    ///
    /// ```swift
    /// let hidden = try model.trace("The Eiffel Tower is in") { m in
    ///     try m.transformer.h[-1].output
    /// }
    /// ```
    public func trace<T>(_ input: Input, _ body: (Envoy) throws -> T) throws -> T {
        try Tracer(model: self).runSingle(input) { m, _ in try body(m) }
    }

    /// Like ``trace(_:_:)-(Input,_)``, with the tracer for `stop()`, `cache(...)`, `result()`.
    public func trace<T>(_ input: Input, _ body: (Envoy, Tracer<Self>) throws -> T) throws -> T {
        try Tracer(model: self).runSingle(input, body)
    }

    /// Runs the model once over the invokes that `body` opens, then returns what `body`
    /// returned. Python: `with model.trace() as tracer: with tracer.invoke(...): ...`.
    ///
    /// ```swift
    /// try model.trace { t in
    ///     try t.invoke("The Eiffel Tower is in") { m in clean = try m.transformer.h[5].output }
    ///     try t.invoke("The Colosseum is in") { m in try m.transformer.h[5].setOutput(clean) }
    /// }
    /// ```
    @discardableResult
    public func trace<T>(_ body: (Tracer<Self>) throws -> T) throws -> T {
        try Tracer(model: self).runOpen(body)
    }
}
