import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How long the model's thread waited for invoke closures: the closures' own code between two
/// envoy accesses, the handoffs, and any wake-up of a parked worker. The overhead a trace adds to
/// the model's forward pass, measured directly rather than as the difference of two noisy wall
/// times.
///
/// ```swift
/// let (hidden, waits) = try InvokeWaits.measuring {
///     try model.trace(ids) { m in try m.transformer.h[5].output }
/// }
/// print(waits.total, waits.count)
/// ```
public struct InvokeWaits: Sendable {
    /// Waits of the model's thread.
    public var count = 0
    /// Their total duration.
    public var total = Duration.zero
    /// Waits over 50 µs (wake-ups of a parked worker, or long computations in a closure).
    public var longCount = 0
    public var longTotal = Duration.zero

    /// Runs `body` and returns what it returned with the waits of the traces that `body` ran on
    /// this thread. One measurement at a time in the process (a second one, from another thread,
    /// waits); measuring costs two clock reads per wait.
    public static func measuring<T>(_ body: () throws -> T) rethrows -> (result: T, waits: InvokeWaits) {
        measurement.lock()
        defer { measurement.unlock() }
        counted.withLock { $0 = InvokeWaits() }
        measuredThread.store(currentThreadID(), ordering: .sequentiallyConsistent)
        defer { measuredThread.store(0, ordering: .sequentiallyConsistent) }
        let result = try body()
        return (result, counted.withLock { $0 })
    }

    private static let measurement = NSLock()
    /// The thread whose traces are measured (0: none).
    private static let measuredThread = Atomic<UInt>(0)
    /// Never contended, so a `Synchronization.Mutex` is enough (no futex handoff for
    /// ThreadSanitizer to miss): only the measured thread records, and `measurement` lets one
    /// thread at a time measure.
    private static let counted = Mutex(InvokeWaits())

    /// Whether waits of the model's thread are measured now, on this thread.
    static var isMeasuring: Bool {
        let measured = measuredThread.load(ordering: .relaxed)
        return measured != 0 && measured == currentThreadID()
    }

    private static func currentThreadID() -> UInt {
        #if canImport(Darwin)
        UInt(bitPattern: pthread_self())
        #else
        UInt(pthread_self())
        #endif
    }

    static func record(_ wait: Duration) {
        counted.withLock { waits in
            waits.count += 1
            waits.total += wait
            if wait > .microseconds(50) {
                waits.longCount += 1
                waits.longTotal += wait
            }
        }
    }
}
