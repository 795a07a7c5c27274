import Foundation

/// Where errors go that Swift cannot throw: a failing subscript setter (`x[0, 99] = y`) or a
/// failing subscript getter.
///
/// A caller installs a sink around code with ``collect(_:)``; failures inside are recorded (the
/// first one wins) and thrown when the body returns. An intervention engine installs one around
/// each intervention and checks it at its next step. Outside any sink a failure stops the
/// program with libtorch's message, as an out-of-range Swift array subscript does.
///
/// Sendable (a task-local value must be): the errors are kept behind a lock. The lock is an
/// `NSLock` (a pthread mutex) rather than `Synchronization.Mutex`: several threads can record
/// into one sink at once, and a contended `Mutex` on Linux is handed over through a futex that
/// ThreadSanitizer does not model, so it reported these locked accesses as races.
public final class TorchErrorSink: Sendable {
    @TaskLocal static var current: TorchErrorSink?

    private let lock = NSLock()
    /// Guarded by `lock`.
    nonisolated(unsafe) private var recorded: [TorchError] = []

    public init() {}

    /// Errors recorded so far, oldest first.
    public var errors: [TorchError] { lock.withLock { recorded } }

    /// The first recorded error, if any.
    public var firstError: TorchError? { lock.withLock { recorded.first } }

    /// Records `error`.
    public func record(_ error: TorchError) { lock.withLock { recorded.append(error) } }

    /// Forgets the recorded errors.
    public func clear() { lock.withLock { recorded.removeAll() } }

    /// Runs `body` with this sink installed for the current thread or task.
    public func installed<T>(_ body: () throws -> T) rethrows -> T {
        try TorchErrorSink.$current.withValue(self, operation: body)
    }

    /// Runs `body` with a fresh sink installed; throws the first error it recorded, if any, or
    /// the body's own error.
    public static func collect<T>(_ body: () throws -> T) throws -> T {
        let sink = TorchErrorSink()
        let result = try sink.installed(body)
        if let error = sink.firstError { throw error }
        return result
    }

    /// Reports an error from a context that cannot throw.
    static func report(_ error: TorchError) {
        guard let sink = current else {
            fatalError("\(error) (raised where Swift cannot throw; install a TorchErrorSink to catch it)")
        }
        sink.record(error)
    }
}
