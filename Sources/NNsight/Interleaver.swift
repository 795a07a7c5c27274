import NNsightNN
import NNsightTorch

/// The model's side of a trace: it starts each invoke's worker, installs hooks on the modules
/// the workers ask for, serves their requests in invoke order when the model reaches those
/// modules, and cleans everything up when the run ends, successfully or not. Python: `Interleaver`.
final class Interleaver {
    /// An error thrown out of the model's forward pass to unwind it when an invoke failed.
    struct Abort: Error {
        let error: any Error
    }

    let tree: EnvoyTree
    private(set) var mediators: [Mediator] = []
    /// Rows in the whole batch.
    let batchSize: Int
    /// True when two or more invokes have inputs: each then sees only its rows.
    let narrowing: Bool
    /// The context of the call whose input is being served (for `.inputs`).
    private(set) var currentContext: ForwardContext?
    /// True when the run generates several steps.
    let isGeneration: Bool
    /// The generation step running now (-1 before the first).
    private var currentStep = -1
    /// The run's result, once delivered.
    private var result: Tensor?
    /// The call whose input gate (`.input`, then the skip gate) is open now, by envoy index.
    private var servingInput: (index: Int, occurrence: Int)?
    /// The invokes that passed the skip gate of that call (their `.input` of it is past).
    private var passedSkipGate: [ObjectIdentifier] = []
    /// Set when an invoke called `stop()`: the visit being served finishes first (the other
    /// invokes waiting on it are served, caches record it), then the model unwinds. nnsight 0.8
    /// holds a stop the same way.
    private var stopRequested = false
    /// How many calls by hand (``Envoy/callAsFunction(_:_:hook:)``) are running: while any is,
    /// this run's hooks serve nothing, record nothing and spend no occurrence.
    private var handCalls = 0

    private var startedBaseline: [Int]
    private var completedBaseline: [Int]
    /// Whether this run installed its input / output hook on each module (by envoy index).
    private var preHooked: [Bool]
    private var postHooked: [Bool]
    private var rouseHooked: [Bool]
    private var handles: [HookHandle] = []
    /// The `.source` operations this run answers for when a hooked value is not a tensor.
    private var nonTensorWatched: [SourceOperation] = []
    /// The invokes waiting at each barrier of this run, in arrival order (by the barrier's
    /// identity: a barrier is kept alive by its waiters' events while it is a key here).
    private var barrierWaits: [ObjectIdentifier: [Mediator]] = [:]
    /// The caches recording each module (by envoy index), with the invoke they belong to.
    private var caches: [Int: [(cache: Cache, mediator: Mediator)]] = [:]
    /// Told of each value that several invokes wait at, before any of them is served.
    var onValueReached: ((ValueReached) -> Void)?
    /// Told of each generation step that several invokes wait to begin, before any continues.
    var onStepReached: ((StepReached) -> Void)?

    init(tree: EnvoyTree, batchSize: Int, inputInvokes: Int, isGeneration: Bool) {
        self.tree = tree
        self.batchSize = batchSize
        self.isGeneration = isGeneration
        narrowing = inputInvokes >= 2
        startedBaseline = tree.all.map { $0.module.callCount }
        completedBaseline = tree.all.map { $0.module.completedCallCount }
        preHooked = Array(repeating: false, count: tree.all.count)
        postHooked = preHooked
        rouseHooked = preHooked
    }

    // MARK: Running

    /// Runs the invokes' closures on workers and `model` on this thread, strictly in turn.
    /// Throws the first error of an invoke (in invoke order) or of the model.
    func run(invokes: [(rows: Range<Int>?, body: () throws -> Void)], model: () throws -> Void) throws {
        defer { cleanUp() }
        do {
            for (order, invoke) in invokes.enumerated() {
                let mediator = Mediator(interleaver: self, worker: WorkerPool.shared.acquire(), rows: invoke.rows, order: order)
                mediator.worker.baton.clearWorkerWaitedLong()
                mediators.append(mediator)
                let body = invoke.body
                mediator.worker.start { mediator.run(body) }
                try settle(mediator)
                // Stopped before the model ran: later invokes never start, the model never runs.
                if stopRequested { break }
            }
            if !stopRequested { try model() }
        } catch let abort as Abort {
            throw cancelAll(after: abort.error)
        } catch is EarlyStop {
            // stop(): the run ends here; what was taken so far stays valid.
        } catch {
            throw cancelAll(after: error)
        }
        try finish()
    }

    /// After the model returned: every request still waiting was for a value that never came.
    private func finish() throws {
        var firstError: (any Error)?
        for mediator in mediators {
            while mediator.isWaiting {
                switch mediator.event {
                case .request(let request) where request.key == .step:
                    mediator.respond(.ended)
                case .request(let request):
                    mediator.respond(.error(isPast(request) ? NNsightError.outOfOrder(requester: request.requester)
                                                            : NNsightError.missed(requester: request.requester)))
                case .barrier(let barrier):
                    let arrived = barrierWaits[ObjectIdentifier(barrier)]?.count ?? 0
                    mediator.respond(.error(NNsightError.barrierNeverReached(expected: barrier.count, arrived: arrived)))
                default: break
                }
            }
            if case .failed(let error) = mediator.event, firstError == nil { firstError = error }
        }
        if let firstError { throw firstError }
    }

    /// Unwinds every invoke still waiting (each sees `NNsightError.cancelled`) and returns `error`.
    private func cancelAll(after error: any Error) -> any Error {
        for mediator in mediators {
            while mediator.isWaiting { mediator.respond(.error(NNsightError.cancelled)) }
        }
        return error
    }

    private func cleanUp() {
        for handle in handles { handle.remove() }
        handles.removeAll()
        for operation in nonTensorWatched { operation.onNonTensor = nil }
        nonTensorWatched.removeAll()
        barrierWaits.removeAll()
        tree.workersWaitLong = mediators.contains { $0.worker.baton.workerHasWaitedLong }
        for mediator in mediators { WorkerPool.shared.release(mediator.worker) }
    }

    // MARK: Requests (called on a worker thread, which holds the turn)

    /// Checks that `request` can still be served and installs the hook that will serve it, or
    /// answers it at once when it is about now (the step running, a delivered result).
    func prepare(_ request: Mediator.Request, for mediator: Mediator) throws -> Mediator.Response? {
        if isPast(request, for: mediator) { throw NNsightError.outOfOrder(requester: request.requester) }
        switch request.key {
        case .step:
            // Outside generation a step only pins the occurrence later requests address.
            return !isGeneration || request.occurrence == currentStep ? .done : nil
        case .result:
            return try result.map { .value(try narrow($0, for: mediator)) }
        case .output:
            installOutputHook(on: request.envoy)
            // Only where waits are long enough to park; short waits poll anyway, and a rouse hook
            // per module would add to their cost.
            // (Not on `.source` operations: a pre-hook there would stand for a request on the input.)
            if request.envoy.countingIndex == request.envoy.index,
               tree.workersWaitLong || mediator.worker.baton.workerHasWaitedLong { installRouseHook(on: request.envoy) }
        case .input, .skip:
            installInputHook(on: request.envoy)
        }
        return nil
    }

    /// Runs `call` (an invoke calling a module by hand) with this run stood down: no hook of the
    /// run serves or records anything meanwhile, and the calls it makes, of the module and
    /// everything under it, are not counted, so later requests address the same calls as before.
    /// Called on the invoke's worker, which holds the turn.
    func callByHand<T>(_ call: () throws -> T) throws -> T {
        let started = tree.all.map { $0.module.callCount }
        let completed = tree.all.map { $0.module.completedCallCount }
        handCalls += 1
        defer {
            handCalls -= 1
            for (index, envoy) in tree.all.enumerated() {
                startedBaseline[index] += envoy.module.callCount - started[index]
                completedBaseline[index] += envoy.module.completedCallCount - completed[index]
            }
        }
        return try call()
    }

    /// Starts recording `modules` into `cache` for `mediator`'s rows.
    func add(_ cache: Cache, modules: [Envoy], for mediator: Mediator) throws {
        try mediator.raisePending()
        for envoy in modules {
            caches[envoy.index, default: []].append((cache, mediator))
            if cache.includesOutputs { installOutputHook(on: envoy) }
            if cache.includesInputs { installInputHook(on: envoy) }
        }
    }

    private func installOutputHook(on envoy: Envoy) {
        let index = envoy.index
        track(index)
        watchNonTensor(envoy)
        guard !postHooked[index] else { return }
        postHooked[index] = true
        handles.append(envoy.module.registerForwardHook { [unowned(unsafe) self] module, _, output in
            try self.serveOutput(index: index, module: module, output: output)
        })
    }

    /// When a module whose output an invoke waits for starts, its worker is told to poll through
    /// that module instead of parking (or woken, if parked), so that the handoff at the module's
    /// end costs no wake-up (50–300 µs on this machine) for the model's thread.
    private func installRouseHook(on envoy: Envoy) {
        let index = envoy.index
        track(index)
        guard !rouseHooked[index] else { return }
        rouseHooked[index] = true
        handles.append(envoy.module.registerForwardPreHook { [unowned(unsafe) self] _, _, _ in
            guard handCalls == 0 else { return .proceed }
            for mediator in mediators where mediator.pendingRequest?.envoy.index == index {
                mediator.worker.baton.rouse()
            }
            return .proceed
        })
    }

    private func installInputHook(on envoy: Envoy) {
        let index = envoy.index
        track(index)
        watchNonTensor(envoy)
        guard !preHooked[index] else { return }
        preHooked[index] = true
        handles.append(envoy.module.registerForwardPreHook { [unowned(unsafe) self] module, input, context in
            try self.serveInput(index: index, module: module, input: input, context: context)
        })
    }

    /// A `.source` operation whose hooked value turns out not to be a tensor (a list, a number)
    /// fails the invokes waiting for that value, not the model's call: the model goes on with the
    /// value as it is, and the other invokes of the batch (other clients' on a server) are served.
    private func watchNonTensor(_ envoy: Envoy) {
        guard let operation = envoy.module as? SourceOperation, operation.onNonTensor == nil else { return }
        let index = envoy.index
        operation.onNonTensor = { [unowned(unsafe) self, unowned operation] isOutput, error in
            try self.serveNonTensor(index: index, operation: operation, isOutput: isOutput, error: error)
        }
        nonTensorWatched.append(operation)
    }

    /// Answers each invoke waiting for the operation's value at this call with `error`; called
    /// where its hook would be, with the operation's counts as its hook would see them.
    private func serveNonTensor(index: Int, operation: SourceOperation, isOutput: Bool, error: SourceError) throws {
        guard handCalls == 0 else { return }
        let counting = tree.all[index].countingIndex
        let occurrence = isOutput ? operation.completedCallCount - completedBaseline[counting]
                                  : operation.callCount - 1 - startedBaseline[counting]
        let keys: (ValueKey) -> Bool = isOutput ? { $0 == .output } : { $0 == .input || $0 == .skip }
        while let (mediator, _) = nextRequest(index: index, occurrence: occurrence, where: keys) {
            try serve(mediator, .error(error))
        }
        try unwindIfStopped()
    }

    /// Records the value a module continues with into the caches that follow it (after every
    /// intervention on it).
    private func recordCaches(index: Int, output: Tensor?, input: Tensor?) throws {
        guard !caches.isEmpty, let registrations = caches[index] else { return }
        let path = tree.all[index].path
        for (cache, mediator) in registrations {
            if let output, cache.includesOutputs { cache.record(output: try narrow(output, for: mediator).detach(), at: path) }
            if let input, cache.includesInputs { cache.record(input: try narrow(input, for: mediator).detach(), at: path) }
        }
    }

    /// Makes room for an envoy added to the tree after this run began (a `.source` operation).
    private func track(_ index: Int) {
        while preHooked.count <= index {
            preHooked.append(false)
            postHooked.append(false)
            rouseHooked.append(false)
        }
    }

    /// True when the model already went past the value `request` asks for (for `mediator`, when
    /// the call's input gate is open: `.input` comes before the skip gate, as in nnsight 0.8).
    func isPast(_ request: Mediator.Request, for mediator: Mediator? = nil) -> Bool {
        let index = request.envoy.countingIndex
        let module = request.envoy.module
        if index != request.envoy.index, isPastOperation(request) { return true }
        switch request.key {
        case .output: return module.completedCallCount - completedBaseline[index] > request.occurrence
        case .input, .skip:
            if let serving = servingInput, serving.index == request.envoy.index, serving.occurrence == request.occurrence {
                guard request.key == .input, let mediator else { return false }
                return passedSkipGate.contains(ObjectIdentifier(mediator))
            }
            return module.callCount - startedBaseline[index] > request.occurrence
        case .step: return isGeneration && currentStep > request.occurrence
        case .result: return false
        }
    }

    /// True when the module whose forward holds `request`'s `.source` operation has finished the
    /// call the request addresses (the operation ran in it, hooked or not).
    func isPastOperation(_ request: Mediator.Request) -> Bool {
        let counting = request.envoy.countingIndex
        let owner = tree.all[counting].module
        return owner.completedCallCount - completedBaseline[counting] > request.occurrence
    }

    // MARK: Run events (called on the model's thread)

    /// Generation step `step` begins: invokes waiting for it continue, in invoke order.
    func serveStep(_ step: Int) throws {
        currentStep = step
        if let onStepReached {
            let waiting = mediators.filter { mediator in
                guard let request = mediator.pendingRequest else { return false }
                return request.envoy.index == tree.root.index && request.key == .step && request.occurrence == step
            }
            if waiting.count >= 2 { onStepReached(StepReached(step: step, waiting: waiting.map(\.order))) }
        }
        while let (mediator, _) = nextRequest(index: tree.root.index, occurrence: step, where: { $0 == .step }) {
            try serve(mediator, .done)
        }
        try unwindIfStopped()
    }

    /// The run's result: invokes waiting for it receive their rows.
    func serveResult(_ value: Tensor) throws {
        result = value
        while let (mediator, _) = nextRequest(index: tree.root.index, occurrence: 0, where: { $0 == .result }) {
            try serve(mediator, .value(try narrow(value, for: mediator)))
        }
        try unwindIfStopped()
    }

    /// Unwinds the model once the visit that an invoke stopped at is complete.
    private func unwindIfStopped() throws {
        if stopRequested { throw EarlyStop() }
    }

    // MARK: Serving (called on the model's thread, inside hooks)

    private func serveOutput(index: Int, module: Module, output: Tensor) throws -> Tensor? {
        guard handCalls == 0 else { return nil }
        let occurrence = module.completedCallCount - completedBaseline[tree.all[index].countingIndex]
        var value = output
        var replaced = false
        if onValueReached != nil { try offer(output, of: index, .output, occurrence: occurrence) }
        while let (mediator, request) = nextRequest(index: index, occurrence: occurrence, where: { $0 == .output }) {
            try serve(request, of: &value, replaced: &replaced, for: mediator)
        }
        try recordCaches(index: index, output: value, input: nil)
        try unwindIfStopped()
        return replaced ? value : nil
    }

    private func serveInput(index: Int, module: Module, input: Tensor, context: ForwardContext) throws
        -> ForwardPreHookResult
    {
        guard handCalls == 0 else { return .proceed }
        let occurrence = module.callCount - 1 - startedBaseline[tree.all[index].countingIndex]
        currentContext = context
        servingInput = (index, occurrence)
        defer {
            currentContext = nil
            servingInput = nil
            passedSkipGate.removeAll()
        }
        var value = input
        var replaced = false
        var skips: [(mediator: Mediator, value: Tensor)] = []
        if onValueReached != nil { try offer(input, of: index, .input, occurrence: occurrence) }
        while let (mediator, request) = nextRequest(index: index, occurrence: occurrence, where: { $0 == .input || $0 == .skip }) {
            switch (request.key, request.kind) {
            case (.skip, .write(let replacement)):
                // A second skip of the same call by the same invoke replaces its first.
                skips.removeAll { $0.mediator === mediator }
                skips.append((mediator, replacement))
                passedSkipGate.append(ObjectIdentifier(mediator))
                try serve(mediator, .done)
            default:
                try serve(request, of: &value, replaced: &replaced, for: mediator)
            }
        }
        try recordCaches(index: index, output: nil, input: value)
        try unwindIfStopped()
        if !skips.isEmpty { return .skip(output: try combineSkips(skips, path: tree.all[index].path)) }
        return replaced ? .replaceInput(value) : .proceed
    }

    /// Serves a read of `value`, or a write that replaces it (in the invoke's rows). A write
    /// that does not fit (a wrong shape) is answered with its error, at the invoke's `set` call.
    private func serve(_ request: Mediator.Request, of value: inout Tensor, replaced: inout Bool,
                       for mediator: Mediator) throws {
        switch request.kind {
        case .read:
            try serve(mediator, .value(try narrow(value, for: mediator)))
        case .write(let replacement):
            let spliced: Tensor
            do {
                spliced = try splice(replacement, into: value, for: mediator)
            } catch let error as TorchError {
                return try serve(mediator, .error(error))
            }
            value = spliced
            replaced = true
            try serve(mediator, .done)
        }
    }

    /// Tells `onValueReached` of `value` (the module's `key` at `occurrence`) when two or more
    /// invokes wait at it and at least one of them waits to read it.
    private func offer(_ value: Tensor, of index: Int, _ key: ValueKey, occurrence: Int) throws {
        guard let onValueReached else { return }
        var waiting = 0
        var readers: [(order: Int, value: Tensor)] = []
        for mediator in mediators {
            guard let request = mediator.pendingRequest, request.envoy.index == index, request.occurrence == occurrence,
                  request.key == key || (key == .input && request.key == .skip) else { continue }
            waiting += 1
            if request.key == key, case .read = request.kind { readers.append((mediator.order, try narrow(value, for: mediator))) }
        }
        guard waiting >= 2, !readers.isEmpty else { return }
        onValueReached(ValueReached(envoy: tree.all[index], key: key, occurrence: occurrence, readers: readers))
    }

    /// The first invoke (in invoke order) waiting for this module's value at `occurrence`.
    private func nextRequest(index: Int, occurrence: Int, where key: (ValueKey) -> Bool) -> (Mediator, Mediator.Request)? {
        for mediator in mediators {
            if let request = mediator.pendingRequest, request.envoy.index == index, key(request.key),
               request.occurrence == occurrence {
                return (mediator, request)
            }
        }
        return nil
    }

    /// Answers `mediator` and runs it to its next event.
    private func serve(_ mediator: Mediator, _ answer: Mediator.Response) throws {
        mediator.respond(answer)
        try settle(mediator)
    }

    /// Acts on the event `mediator` stopped at: unwinds the model if it failed; notes a `stop()`
    /// (the model unwinds when the visit being served is complete); at a barrier, parks it, or, when it is the last to arrive, releases every participant in
    /// invoke order, each running to its next event (which may be served at this very hook).
    private func settle(_ mediator: Mediator) throws {
        switch mediator.event {
        case .failed(let error): throw Abort(error: error)
        case .stopped: stopRequested = true
        case .barrier(let barrier):
            let key = ObjectIdentifier(barrier)
            barrierWaits[key, default: []].append(mediator)
            guard let waiting = barrierWaits[key], waiting.count >= barrier.count else { return }
            barrierWaits[key] = nil
            for participant in waiting.sorted(by: { $0.order < $1.order }) { try serve(participant, .done) }
        case .request, .finished: break
        }
    }

    // MARK: Batching

    /// The rows of `value` that `mediator` sees: a view, so in-place edits reach the model.
    func narrow(_ value: Tensor, for mediator: Mediator) throws -> Tensor {
        guard narrowing, let rows = mediator.rows, value.rank > 0, try value.size(0) == batchSize else { return value }
        return try value.narrow(dim: 0, start: rows.lowerBound, length: rows.count)
    }

    /// `value` with `mediator`'s rows replaced by `replacement` (all of it for a prompt-less invoke).
    func splice(_ replacement: Tensor, into value: Tensor, for mediator: Mediator) throws -> Tensor {
        guard narrowing, let rows = mediator.rows, value.rank > 0, try value.size(0) == batchSize else { return replacement }
        var parts: [Tensor] = []
        if rows.lowerBound > 0 { parts.append(try value.narrow(dim: 0, start: 0, length: rows.lowerBound)) }
        parts.append(replacement)
        if rows.upperBound < batchSize {
            parts.append(try value.narrow(dim: 0, start: rows.upperBound, length: batchSize - rows.upperBound))
        }
        return try Tensor.cat(parts, dim: 0)
    }

    /// One output from the skip values of several invokes, in row order.
    private func combineSkips(_ skips: [(mediator: Mediator, value: Tensor)], path: String) throws -> Tensor {
        if let whole = skips.last(where: { $0.mediator.rows == nil || !narrowing }) { return whole.value }
        let inputInvokes = mediators.filter { $0.rows != nil }.count
        guard skips.count == inputInvokes else { throw NNsightError.incompleteSkip(path: path) }
        let ordered = skips.sorted { $0.mediator.rows!.lowerBound < $1.mediator.rows!.lowerBound }
        return try Tensor.cat(ordered.map { $0.value }, dim: 0)
    }
}
