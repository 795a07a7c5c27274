import Foundation
import Synchronization

/// A worker thread that runs one job at a time, in strict turns with the thread that started
/// the job. Workers are kept in a pool and reused across traces: no thread is created per trace.
///
/// `@unchecked Sendable`, earned by the turn-taking protocol: `job` is written by the thread that
/// holds the turn before it hands the turn over, and read by the worker only once it holds it
/// (the baton's handoff orders the two); `thread` is set once, in `init`.
final class Worker: @unchecked Sendable {
    /// The turn-taking link between this worker and the model's thread.
    let baton = TurnBaton()
    private var job: (() -> Void)?
    private var thread: Thread?

    fileprivate init() {
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "nnsight-worker"
        thread.stackSize = 8 << 20
        self.thread = thread
        thread.start()
    }

    private func loop() {
        while true {
            baton.wait(for: .worker)
            runJob()
            baton.give(to: .model)
        }
    }

    /// Runs and releases the job before the turn goes back, so that nothing the job captured
    /// (a caller's non-escaping closure) outlives the call that started it.
    @inline(never)
    private func runJob() {
        let job = self.job
        self.job = nil
        job?()
    }

    /// Starts `job` on this worker and waits until it hands the turn back (at its first request,
    /// or when it returns). Called on the model's thread.
    func start(_ job: @escaping () -> Void) {
        self.job = job
        baton.handOff(from: .model, to: .worker)
    }
}

/// The process-wide pool of idle workers. Its list sits behind an `NSLock` (a pthread mutex):
/// traces on several threads contend for it, and ThreadSanitizer does not model a contended
/// `Synchronization.Mutex`'s futex handoff on Linux.
final class WorkerPool: Sendable {
    static let shared = WorkerPool()

    private let lock = NSLock()
    /// Guarded by `lock`.
    nonisolated(unsafe) private var idle: [Worker] = []
    private let created = Atomic<Int>(0)

    /// The number of worker threads created so far (they are reused, so this stays at the
    /// largest number of invokes that ran at once).
    var threadCount: Int { created.load(ordering: .relaxed) }

    func acquire() -> Worker {
        if let worker = lock.withLock({ idle.popLast() }) { return worker }
        created.add(1, ordering: .relaxed)
        return Worker()
    }

    func release(_ worker: Worker) {
        lock.withLock { idle.append(worker) }
    }
}
