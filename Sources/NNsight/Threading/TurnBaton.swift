import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Strict turn-taking between the model's thread and one worker thread: exactly one side runs
/// at a time, and a handoff transfers the turn to the other side.
///
/// The waiting side spins briefly on an atomic flag (a handoff then costs under a microsecond,
/// see DESIGN.md), then keeps polling while yielding its core (on a busy machine the thread it
/// waits for may need that core), and finally parks on a condition variable so that a worker
/// waiting through a long layer does not burn a core. Waking a parked thread costs this machine
/// 50–300 µs, so a worker waiting for a module's output is roused when that module starts
/// (`rouse()`): it polls through that one module instead of paying the wake-up at its end.
///
/// `@unchecked Sendable`, earned by a lock: the flags are atomics, and the pthread mutex and
/// condition (stored as `var` only because pthread takes their addresses) are touched only
/// through pthread calls, the condition only under the mutex.
final class TurnBaton: @unchecked Sendable {
    enum Side: Int { case model = 0, worker = 1 }

    private let turn = Atomic<Int>(Side.model.rawValue)
    private let sleepers = Atomic<Int>(0)
    /// Set by `rouse()`: the waiting side polls instead of parking until its turn comes.
    private let roused = Atomic<Bool>(false)
    /// Whether a wait of the worker side outlasted the spinning since `clearWorkerWaitedLong()`.
    private let workerWaitedLong = Atomic<Bool>(false)
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private let spinLimit: Int
    private let yieldLimit: Int

    init(spinLimit: Int = 30_000, yieldLimit: Int = 200) {
        self.spinLimit = spinLimit
        self.yieldLimit = yieldLimit
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    /// Gives the turn to `side` (called by the side that holds it).
    func give(to side: Side) {
        turn.store(side.rawValue, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(&mutex)
            pthread_cond_broadcast(&condition)
            pthread_mutex_unlock(&mutex)
        }
    }

    /// Blocks until `side` holds the turn.
    func wait(for side: Side) {
        guard side == .model, InvokeWaits.isMeasuring else { return waitUntimed(for: side) }
        let start = ContinuousClock.now
        waitUntimed(for: side)
        InvokeWaits.record(ContinuousClock.now - start)
    }

    private func waitUntimed(for side: Side) {
        // Cleared while this side holds the turn (the other side only rouses while it holds it).
        defer { if roused.load(ordering: .relaxed) { roused.store(false, ordering: .relaxed) } }
        for _ in 0..<spinLimit {
            if turn.load(ordering: .acquiring) == side.rawValue { return }
        }
        for _ in 0..<yieldLimit {
            if turn.load(ordering: .acquiring) == side.rawValue { return }
            sched_yield()
        }
        if side == .worker { workerWaitedLong.store(true, ordering: .relaxed) }
        if !roused.load(ordering: .sequentiallyConsistent) {
            pthread_mutex_lock(&mutex)
            sleepers.add(1, ordering: .sequentiallyConsistent)
            while turn.load(ordering: .sequentiallyConsistent) != side.rawValue
                && !roused.load(ordering: .sequentiallyConsistent) {
                pthread_cond_wait(&condition, &mutex)
            }
            sleepers.subtract(1, ordering: .sequentiallyConsistent)
            pthread_mutex_unlock(&mutex)
        }
        while turn.load(ordering: .acquiring) != side.rawValue { sched_yield() }
    }

    /// Tells the waiting side that its turn comes soon (the value it asked for is being
    /// computed): it polls, yielding its core to any other thread that wants it, instead of
    /// parking or staying parked. Called by the side that holds the turn.
    func rouse() {
        roused.store(true, ordering: .sequentiallyConsistent)
        guard sleepers.load(ordering: .sequentiallyConsistent) > 0 else { return }
        pthread_mutex_lock(&mutex)
        pthread_cond_broadcast(&condition)
        pthread_mutex_unlock(&mutex)
    }

    /// Whether a wait of the worker side outlasted the spinning since the last
    /// `clearWorkerWaitedLong()`: its waits are long enough that rousing it pays off.
    var workerHasWaitedLong: Bool { workerWaitedLong.load(ordering: .relaxed) }

    func clearWorkerWaitedLong() { workerWaitedLong.store(false, ordering: .relaxed) }

    /// Gives the turn to `other` and waits until it comes back to `me`.
    func handOff(from me: Side, to other: Side) {
        give(to: other)
        wait(for: me)
    }
}
