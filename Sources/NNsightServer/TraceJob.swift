import Foundation
import NNsight
import NNsightRemote
import NNsightTorch

/// One client's trace on the server: its invokes' token rows, the mailboxes its invokes read the
/// client's messages from, and whether it was cancelled (by the client, a deadline or a closed
/// connection). Cancelling a trace touches nothing but its own invokes.
// @unchecked: `cancelReason`, `ended`, `caches` and `barriers` only under `lock`; the caches and
// barriers (not Sendable) are used by the engine's workers strictly in turn.
final class TraceJob: @unchecked Sendable {
    struct Invoke {
        /// The token rows of an invoke with input; nil for a prompt-less invoke.
        let tokens: [[Int]]?
        let mailbox = Mailbox()
        /// What the server did ahead of this invoke's turn.
        let progress = InvokeProgress()
    }

    let session: ClientSession
    /// The client's number for this trace.
    let trace: Int
    let invokes: [Invoke]
    let limits: KeyLimits
    let keyName: String
    let arrival = Date()
    /// Rows of the batch this trace covers (all its input invokes).
    let rowCount: Int
    /// Its longest token row: traces batch only with traces of the same longest row, so that each
    /// is padded exactly as it would be alone (left padding shifts positions).
    let length: Int
    /// How the trace runs: one forward, a generation with these settings, or a scan.
    let generation: GenerationRequest?
    let scan: Bool
    /// A generation whose chosen tokens the client asked to receive as each step ends.
    let stream: Bool

    private let lock = NSLock()
    private var cancelReason: RemoteError?
    private var ended = false
    /// The caches the client's invokes started: (invoke, client's number, cache).
    private var caches: [(invoke: Int, number: Int, cache: Cache)] = []
    /// The barriers of this trace, by the client's number.
    private var barriers: [Int: Barrier] = [:]

    init(session: ClientSession, trace: Int, invokes: [Invoke], limits: KeyLimits, keyName: String,
         generation: GenerationRequest? = nil, scan: Bool = false, stream: Bool = false) {
        self.session = session
        self.trace = trace
        self.invokes = invokes
        self.limits = limits
        self.keyName = keyName
        self.generation = generation
        self.scan = scan
        self.stream = stream && generation != nil
        rowCount = invokes.reduce(0) { $0 + ($1.tokens?.count ?? 0) }
        length = invokes.compactMap { $0.tokens?.map(\.count).max() }.max() ?? 0
    }

    /// Which traces may share a forward with this one: traces of the same kind and longest
    /// prompt (so each is padded exactly as alone), generations only with equal settings that
    /// are greedy and do not stop at the end-of-sequence token (a row that would stop alone runs
    /// on in a shared batch); scans and other generations run alone.
    var batchKey: BatchKey {
        if scan { return .alone(ObjectIdentifier(self)) }
        guard let generation else { return .forward(length: length) }
        guard generation.temperature == 0, !generation.stopAtEOS else { return .alone(ObjectIdentifier(self)) }
        return .generation(length: length, generation)
    }

    enum BatchKey: Hashable {
        case forward(length: Int)
        case generation(length: Int, GenerationRequest)
        case alone(ObjectIdentifier)
    }

    /// Keeps a cache an invoke started; its values are sent when the run ends.
    func add(cache: Cache, number: Int, invoke: Int) throws {
        try lock.withLock {
            guard !caches.contains(where: { $0.number == number }) else {
                throw RemoteError.protocolError(.unexpectedMessage, "cache \(number) was already started in trace \(trace)")
            }
            caches.append((invoke, number, cache))
        }
    }

    /// The barrier the client numbered `number`, made on first use with `count` participants.
    func barrier(_ number: Int, count: Int) throws -> Barrier {
        try lock.withLock {
            if let barrier = barriers[number] {
                guard barrier.count == count else {
                    throw RemoteError.protocolError(.malformedFrame, "barrier \(number) has \(barrier.count) participants, not \(count)")
                }
                return barrier
            }
            guard (1...invokes.count + 1).contains(count), barriers.count < 1024 else {
                throw RemoteError.protocolError(.malformedFrame, "a barrier of \(count) participants in a trace of \(invokes.count) invokes")
            }
            let barrier = Barrier(count: count)
            barriers[number] = barrier
            return barrier
        }
    }

    /// Sends every cached value (in each cache's path order, calls in order); the first value
    /// that cannot be shown to this client (another client's rows, over the response limit)
    /// ends the sending with that error.
    private func sendCaches(sharedBatch: Bool) -> RemoteError? {
        let caches = lock.withLock { self.caches }
        for (invoke, number, cache) in caches {
            let rows = invokes[invoke].tokens?.count ?? rowCount
            for path in cache.paths {
                guard let record = try? cache[path] else { continue }
                for (key, values) in [(WireValueKey.input, record.inputs), (.output, record.outputs)] {
                    for value in values {
                        if sharedBatch, value.rank == 0 || (try? value.size(0)) != rows {
                            return .protocolError(.unexpectedMessage, "\(path).\(key.rawValue) has no batch dimension (shape \(value.shape)); in a batch shared with other clients it cannot be cached")
                        }
                        var message = WireMessage(kind: .cached, trace: trace)
                        message.cache = number
                        message.path = path
                        message.key = key
                        do {
                            let frame = try WireFrame.binary(message, tensor: value)
                            guard frame.count <= limits.responseBytes else {
                                return .protocolError(.limitExceeded, "a \(frame.count)-byte cached value of \(path) exceeds this key's \(limits.responseBytes)-byte response limit")
                            }
                            session.send(frame: frame)
                        } catch {
                            return .protocolError(.torch, "cached \(path): \(error)")
                        }
                    }
                }
            }
        }
        return nil
    }

    var inputInvokeCount: Int { invokes.filter { $0.tokens != nil }.count }

    /// True when every invoke of this trace before `index` has finished: nothing of this trace
    /// can then change invoke `index`'s rows before its turn, and the server may run ahead for it.
    func mayRunAhead(_ index: Int) -> Bool {
        !isCancelled && invokes[..<index].allSatisfy { $0.progress.isFinished }
    }

    var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelReason != nil
    }

    /// Cancels this trace alone: its invokes stop serving the client, and the client is told why
    /// (unless `notify` is false: the client itself ended it). Returns false if it was already.
    @discardableResult
    func cancel(_ reason: RemoteError, notify: Bool = true) -> Bool {
        lock.lock()
        guard cancelReason == nil, !ended else {
            lock.unlock()
            return false
        }
        cancelReason = reason
        lock.unlock()
        for invoke in invokes { invoke.mailbox.put(.closed(reason)) }
        if notify { session.send(.error(reason.code, reason.message, trace: trace)) }
        return true
    }

    /// The batched forward this trace was part of has ended (with `error` if it failed); its
    /// caches' values go to the client before the final status.
    func end(runError: (any Error)?, sharedBatch: Bool = false) {
        lock.lock()
        let reason = cancelReason
        let alreadyEnded = ended
        ended = true
        lock.unlock()
        guard !alreadyEnded else { return }
        var status = WireMessage(kind: .status, trace: trace)
        if let runError {
            // The run's own failure comes first: a client's invoke that failed or was cancelled
            // meanwhile did so because of it. An engine or libtorch error keeps its type, so the
            // client raises what a local trace raises (an `incompleteSkip`, …).
            let typed = ServerInvoke.errorMessage(for: runError, trace: trace, invoke: -1)
            status.state = .error
            status.code = typed.code
            status.engineError = typed.engineError
            status.message = typed.code == .server ? "the batched forward failed: \(runError)" : typed.message
        } else if let reason {
            status.state = .error
            status.code = reason.code
            status.message = reason.message
        } else if let failure = sendCaches(sharedBatch: sharedBatch) {
            status.state = .error
            status.code = failure.code
            status.message = failure.message
        } else {
            status.state = .completed
        }
        session.send(status)
        session.traceEnded(trace)
    }
}
