import NNsightNN
import NNsightTorch

/// Which value of a module a request is about.
package enum ValueKey: String, Sendable {
    case input, output, skip
    /// The beginning of a generation step (the occurrence is the step).
    case step
    /// The run's result (the generated ids), delivered after the model returned.
    case result
}

/// One invoke's side of a trace: its closure runs on a pooled worker thread, strictly in turn
/// with the model. Each envoy access becomes a request; the worker hands the turn to the model
/// and waits until the interleaver serves the request at the module's hook (or fails it).
/// Python: `Mediator`.
///
/// `@unchecked Sendable` (a task-local value must be), earned by the turn-taking protocol: its
/// mutable state is read and written only by the side that holds the turn, the invoke's worker
/// or the model's thread, and every handoff between them goes through the worker's baton.
final class Mediator: @unchecked Sendable {
    /// What the worker asks for when it hands the turn to the model.
    enum Event {
        case request(Request)
        /// Waiting at a barrier until every participant arrives.
        case barrier(Barrier)
        case finished
        case failed(any Error)
        case stopped
    }

    struct Request {
        enum Kind {
            case read
            case write(Tensor)
        }

        let envoy: Envoy
        let key: ValueKey
        let occurrence: Int
        let kind: Kind

        /// Python's requester string, e.g. `model.transformer.h.0.output.i0`.
        var requester: String { "\(envoy.path).\(key.rawValue).i\(occurrence)" }
    }

    /// What the model hands back.
    enum Response {
        case value(Tensor)
        case done
        /// The run ended before the awaited generation step began.
        case ended
        case error(any Error)
    }

    @TaskLocal static var current: Mediator?

    /// Unowned without reference counting: the interleaver outlives every use of its mediators
    /// (they run only inside its `run`), and this reference is read on every envoy access, from
    /// the worker's thread, where counting would move the interleaver's count between cores.
    unowned(unsafe) let interleaver: Interleaver
    let worker: Worker
    /// The identity of the envoy tree of the trace (``EnvoyTree/identity``, checked on every access).
    let treeIdentity: UInt64
    /// This invoke's rows of the batch; nil for a prompt-less invoke (the whole batch).
    let rows: Range<Int>?
    /// The position of this invoke among the trace's invokes (service order).
    let order: Int

    /// The occurrence new requests address, for every module (advanced by the tracer's `next()`).
    private(set) var iteration = 0
    /// Further calls to skip per envoy (advanced by an envoy's `next()`).
    private var offsets: [Int: Int] = [:]
    /// The worker's pending event, valid while the model holds the turn.
    var event: Event = .finished
    private var response: Response = .done
    /// The context of the call that served the last `.input` read (for `.inputs`).
    private(set) var lastContext: ForwardContext?
    /// An error to raise at this worker's next request (a misused API that cannot throw).
    var deferredError: (any Error)?
    /// The error sink of this worker's closure (failed subscript writes land here).
    let sink = TorchErrorSink()

    init(interleaver: Interleaver, worker: Worker, rows: Range<Int>?, order: Int) {
        self.interleaver = interleaver
        treeIdentity = interleaver.tree.identity
        self.worker = worker
        self.rows = rows
        self.order = order
    }

    // MARK: Worker side

    func read(_ envoy: Envoy, _ key: ValueKey) throws -> Tensor {
        guard case .value(let value) = try request(Request(envoy: envoy, key: key, occurrence: occurrence(of: envoy), kind: .read)) else {
            preconditionFailure("a read was answered without a value")
        }
        return value
    }

    func write(_ envoy: Envoy, _ key: ValueKey, _ value: Tensor) throws {
        _ = try request(Request(envoy: envoy, key: key, occurrence: occurrence(of: envoy), kind: .write(value)))
    }

    private func occurrence(of envoy: Envoy) -> Int { iteration + offsets[envoy.index, default: 0] }

    /// Moves every later request on to the following call. Python: `tracer.next()`.
    func advance(by count: Int) throws {
        try raisePending()
        iteration += count
    }

    /// Waits until generation step `step` begins, then addresses every later request to it.
    /// Returns false when the run ended first. Python: one turn of `for s in tracer.iter[...]`.
    func begin(step: Int) throws -> Bool {
        let answer = try request(Request(envoy: interleaver.tree.root, key: .step, occurrence: step, kind: .read))
        if case .ended = answer { return false }
        iteration = step
        return true
    }

    /// The run's result for this invoke's rows (the generated ids). Python: `tracer.result`.
    func result() throws -> Tensor {
        guard case .value(let value) = try request(Request(envoy: interleaver.tree.root, key: .result, occurrence: 0, kind: .read)) else {
            preconditionFailure("a result read was answered without a value")
        }
        return value
    }

    /// Moves later requests on `envoy` on to its following call. Python: `envoy.next()`.
    func advance(_ envoy: Envoy, by count: Int) throws {
        try raisePending()
        offsets[envoy.index, default: 0] += count
    }

    /// Raises an error recorded where Swift could not throw (a failed subscript, a misused invoke).
    func raisePending() throws {
        if let error = deferredError {
            deferredError = nil
            throw error
        }
        if let error = sink.firstError {
            sink.clear()
            throw error
        }
    }

    private func request(_ request: Request) throws -> Response {
        try raisePending()
        if let immediate = try interleaver.prepare(request, for: self) { return immediate }
        event = .request(request)
        worker.baton.handOff(from: .worker, to: .model)
        switch response {
        case .error(let error): throw error
        case let answer:
            if request.key == .input, case .read = request.kind { lastContext = interleaver.currentContext }
            return answer
        }
    }

    /// The body run on the worker thread.
    func run(_ body: @escaping () throws -> Void) {
        do {
            try Mediator.$current.withValue(self) {
                try sink.installed(body)
                try raisePending()
            }
            event = .finished
        } catch is EarlyStop {
            event = .stopped
        } catch {
            event = .failed(error)
        }
    }

    // MARK: Model side

    /// Answers the pending request and runs the worker until its next event.
    func respond(_ answer: Response) {
        response = answer
        worker.baton.handOff(from: .model, to: .worker)
    }

    var pendingRequest: Request? {
        if case .request(let request) = event { return request }
        return nil
    }

    /// True while the worker waits for the model: on a request or at a barrier.
    var isWaiting: Bool {
        switch event {
        case .request, .barrier: true
        case .finished, .failed, .stopped: false
        }
    }

    /// Waits at `barrier` until every participant has arrived (worker side).
    func wait(at barrier: Barrier) throws {
        try raisePending()
        event = .barrier(barrier)
        worker.baton.handOff(from: .worker, to: .model)
        if case .error(let error) = response { throw error }
    }
}

/// Thrown inside an invoke by `stop()`; ends the model run early without an error.
struct EarlyStop: Error {}
