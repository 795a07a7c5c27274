/// A meeting point for invokes: each participant calls it, and all continue together once
/// `count` have arrived, at the module the model is at (so one invoke can write a value another
/// read a moment before, at the same module). Created outside the invokes with
/// `tracer.barrier(n)`; reusable. Python: `b = tracer.barrier(n)` … `b()`.
public final class Barrier {
    /// How many invokes must arrive.
    public let count: Int
    /// The invokes waiting so far (model side).
    var waiting: [Mediator] = []

    init(count: Int) {
        self.count = count
    }

    /// Waits until `count` invokes have called the barrier.
    public func callAsFunction() throws {
        guard let mediator = Mediator.current else {
            throw NNsightError.outsideInterleaving(requester: "barrier", action: "wait at")
        }
        try mediator.wait(at: self)
    }
}
