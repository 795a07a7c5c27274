/// A meeting point for invokes: each participant calls it, and all continue together once
/// `count` have arrived, at the module the model is at (so one invoke can write a value another
/// read a moment before, at the same module). Created outside the invokes with
/// `tracer.barrier(n)`; reusable, within a run and in later runs. Python: `b = tracer.barrier(n)` … `b()`.
///
/// A barrier holds no state of a run: the invokes waiting at it are kept by the run (its
/// interleaver), and dropped with it, whether the run ended well, failed or was cancelled.
public final class Barrier: Sendable {
    /// How many invokes must arrive.
    public let count: Int

    package init(count: Int) {
        self.count = count
    }

    /// Waits until `count` invokes have called the barrier.
    public func callAsFunction() throws {
        guard let mediator = Mediator.current else {
            if let remote = RemoteEnvoyAccessScope.current { return try remote.wait(at: self) }
            throw NNsightError.outsideInterleaving(requester: "barrier", action: "wait at")
        }
        try mediator.wait(at: self)
    }
}
