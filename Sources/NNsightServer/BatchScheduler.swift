import Foundation
import Logging
import NNsight
import NNsightRemote
import NNsightTorch

/// Runs the model on one thread of its own. Traces that arrive while the model is busy, or
/// within the batch window of the one before, run as one batched forward: each client's invokes are
/// rows of the batch, and a client's prompt-less invoke covers only that client's rows.
// @unchecked: every `var` only with `condition` held; the model is used only on the scheduler's
// own thread ("nnsight-model").
final class BatchScheduler: @unchecked Sendable {
    private let model: LanguageModel
    private let configuration: ServerConfiguration
    private let logger: Logger
    private let condition = NSCondition()
    private var queue: [TraceJob] = []
    /// Capture jobs waiting (ids); they run when no trace waits.
    private var captures: [String] = []
    let captureJobs: CaptureJobs
    private var running: [TraceJob] = []
    private var stopping = false
    private var finished = false
    private var statistics = ServerStatistics()
    /// Clients connected now: the batch window is waited only while one that has no trace
    /// queued could still send one.
    private var connectedClients = 0

    /// libtorch's intra-op threads where the server was made: the model's thread uses as many
    /// (a thread libtorch has not seen starts with one per core, whatever was set elsewhere).
    private let intraOpThreads = Torch.numThreads

    init(model: LanguageModel, configuration: ServerConfiguration, logger: Logger) {
        self.model = model
        self.configuration = configuration
        self.logger = logger
        captureJobs = CaptureJobs(retention: configuration.captureRetention)
    }

    /// Queues a capture job (it runs when no trace is waiting).
    func submit(capture job: CaptureJobs.Job) throws {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { throw RemoteError.protocolError(.cancelled, "the server is shutting down") }
        captureJobs.add(job)
        captures.append(job.id)
        condition.signal()
    }

    var stats: ServerStatistics {
        condition.lock()
        defer { condition.unlock() }
        return statistics
    }

    func start() {
        let thread = Thread { [self] in
            try? Torch.setNumThreads(intraOpThreads)
            loop()
        }
        thread.name = "nnsight-model"
        thread.stackSize = 16 << 20
        thread.start()
    }

    /// Stops taking traces; cancels those queued; returns once the running batch ended.
    func stop() {
        condition.lock()
        stopping = true
        let queued = queue
        queue.removeAll()
        condition.broadcast()
        condition.unlock()
        for job in queued {
            job.cancel(.protocolError(.cancelled, "the server is shutting down"))
            job.end(runError: nil)
        }
        condition.lock()
        while !finished { condition.wait() }
        condition.unlock()
    }

    /// A client connected (its traces may join batches).
    func clientConnected() {
        condition.lock()
        connectedClients += 1
        condition.unlock()
    }

    /// A client's connection closed.
    func clientDisconnected() {
        condition.lock()
        connectedClients -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Queues `job`, telling its client its position; refuses it past its key's trace limit.
    func submit(_ job: TraceJob) throws {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { throw RemoteError.protocolError(.cancelled, "the server is shutting down") }
        let active = (queue + running).filter { $0.keyName == job.keyName }.count
        guard active < job.limits.concurrentTraces else {
            throw RemoteError.protocolError(.limitExceeded, "key \"\(job.keyName)\" already has \(active) traces queued or running (limit \(job.limits.concurrentTraces))")
        }
        var status = WireMessage(kind: .status, trace: job.trace)
        status.state = .queued
        status.position = queue.count
        job.session.send(status)
        queue.append(job)
        condition.signal()
    }

    /// Removes a queued job (it is then ended), or cancels a running one.
    func cancel(_ job: TraceJob, reason: RemoteError) {
        condition.lock()
        let wasQueued = queue.contains { $0 === job }
        queue.removeAll { $0 === job }
        condition.unlock()
        job.cancel(reason)
        if wasQueued { job.end(runError: nil) }
    }

    private func loop() {
        while let work = nextWork() {
            guard case .traces(let batch) = work else {
                if case .capture(let id) = work {
                    logger.info("capture job \(id)")
                    captureJobs.run(id, model: model)
                }
                continue
            }
            run(batch)
            condition.lock()
            running.removeAll()
            condition.unlock()
        }
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    enum Work {
        case traces([TraceJob])
        case capture(String)
    }

    /// Waits for work: a capture job when no trace waits; else the first trace, then what
    /// arrives of the same length as it (the others wait for the next forward, first in line)
    /// until the batch window has passed with no new arrival, or `maxBatchWait` since the first
    /// (at least one window). The gathering ends early once every connected client has a trace
    /// queued (a lone client never waits): nobody else could join. A window that restarts at each
    /// arrival gathers clients whose traces come a little apart (threads started on a busy
    /// machine) without making a lone trace wait longer than one window.
    private func nextWork() -> Work? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && captures.isEmpty && !stopping { condition.wait() }
        if stopping { return nil }
        if queue.isEmpty { return .capture(captures.removeFirst()) }
        let key = queue[0].batchKey
        func companions() -> Int { queue.lazy.filter { $0.batchKey == key }.count }
        let window = configuration.batchWindow.seconds
        let latest = queue[0].arrival.addingTimeInterval(max(window, configuration.maxBatchWait.seconds))
        func windowEnd() -> Date {
            let lastArrival = queue.lazy.filter { $0.batchKey == key }.map(\.arrival).max() ?? queue[0].arrival
            return min(lastArrival.addingTimeInterval(window), latest)
        }
        func othersCouldJoin() -> Bool {
            connectedClients > Set(queue.lazy.map { ObjectIdentifier($0.session) }).count
        }
        while !stopping && companions() < configuration.maxBatchTraces && othersCouldJoin() && Date() < windowEnd() {
            _ = condition.wait(until: windowEnd())
        }
        if stopping { return nil }
        let batch = Array(queue.lazy.filter { $0.batchKey == key }.prefix(configuration.maxBatchTraces))
        queue.removeAll { job in batch.contains { $0 === job } }
        running = batch
        statistics.queuedSeconds += Date().timeIntervalSince(batch[0].arrival)
        return .traces(batch)
    }

    /// One batched forward over every invoke of `batch`, in arrival order.
    private func run(_ batch: [TraceJob]) {
        let rows = batch.reduce(0) { $0 + $1.rowCount }
        let clients = Set(batch.map { ObjectIdentifier($0.session) }).count
        logger.info("batched forward: \(batch.count) traces from \(clients) clients, \(rows) rows")
        for job in batch {
            var status = WireMessage(kind: .status, trace: job.trace)
            status.state = .running
            status.sharedWith = batch.count
            job.session.send(status)
        }
        let deadline = configuration.clientDeadline
        let shared = batch.count > 1
        let dtype = model.dtype
        // Several clients: each trace's first invoke is started now, not after the invokes
        // before it reached their first module, and every value that several clients wait at
        // goes to all of them before any answer is awaited.
        let earlySends = shared ? EarlySends() : nil
        if shared {
            for job in batch where !job.isCancelled {
                job.invokes[0].progress.markStarted()
                job.session.send(WireMessage(kind: .start, trace: job.trace, invoke: 0))
            }
        }
        var runError: (any Error)?
        let began = Date()
        do {
            try BatchForward(model: model, batch: batch, deadline: deadline, dtype: dtype, earlySends: earlySends).run()
        } catch {
            logger.error("batched forward failed: \(error)")
            runError = error
        }
        // Counted before the clients hear that their traces ended, so that what they read of
        // the statistics afterwards includes this forward.
        condition.lock()
        statistics.forwards += 1
        statistics.traces += batch.count
        if batch.count > 1 { statistics.sharedForwards += 1 }
        statistics.largestBatch = max(statistics.largestBatch, batch.count)
        statistics.runSeconds += Date().timeIntervalSince(began)
        condition.unlock()
        for job in batch { job.end(runError: runError, sharedBatch: shared) }
    }
}

/// What a server has done, for its log, its `/v1/stats` endpoint and its tests.
public struct ServerStatistics: Sendable, Codable {
    /// Batched forwards run.
    public var forwards = 0
    /// Traces served (completed or failed).
    public var traces = 0
    /// Forwards that served more than one trace.
    public var sharedForwards = 0
    /// The most traces one forward served.
    public var largestBatch = 0
    /// Seconds, summed over forwards, from the arrival of a forward's first trace to the
    /// forward's start (the batch window, or the previous forward, it waited for).
    public var queuedSeconds = 0.0
    /// Seconds, summed over forwards, that forwards ran, with their clients' round trips.
    public var runSeconds = 0.0
}
