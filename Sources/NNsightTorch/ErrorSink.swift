import Synchronization

/// Where errors go that Swift cannot throw: a failing subscript setter (`x[0, 99] = y`) or a
/// failing subscript getter.
///
/// A caller installs a sink around code with ``collect(_:)``; failures inside are recorded (the
/// first one wins) and thrown when the body returns. An intervention engine installs one around
/// each intervention and checks it at its next step. Outside any sink a failure stops the
/// program with libtorch's message, as an out-of-range Swift array subscript does.
///
/// Sendable (a task-local value must be): the errors are kept behind a lock.
public final class TorchErrorSink: Sendable {
    @TaskLocal static var current: TorchErrorSink?

    private let recorded = Mutex<[TorchError]>([])

    public init() {}

    /// Errors recorded so far, oldest first.
    public var errors: [TorchError] { recorded.withLock { $0 } }

    /// The first recorded error, if any.
    public var firstError: TorchError? { recorded.withLock { $0.first } }

    /// Records `error`.
    public func record(_ error: TorchError) { recorded.withLock { $0.append(error) } }

    /// Forgets the recorded errors.
    public func clear() { recorded.withLock { $0.removeAll() } }

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
