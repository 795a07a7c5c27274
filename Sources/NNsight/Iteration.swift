import NNsightTorch

/// The generation steps an invoke follows: `for step in tracer.iter(1..<3) { … }`.
///
/// Each turn of the loop waits until that step begins and makes the invoke's requests address
/// it (`m.lm_head.output` is that step's logits). An open selection (`iter(2...)`, `all()`)
/// ends when generation ends, and the code after the loop then runs; a module read there
/// addresses the last step, which has passed, and is an out-of-order error.
/// Python: `for step in tracer.iter[1:3]:`.
///
/// Outside `generate`, a step only selects the occurrence: `iter(0..<3)` over a trace visits the
/// first three calls of modules called several times in one forward; such loops must be bounded.
public struct StepSequence: Sequence {
    let steps: [Int]?
    let start: Int

    /// The listed `steps` in order, or (nil) every step from `start` on.
    package init(steps: [Int]?, start: Int) {
        self.steps = steps
        self.start = start
    }

    public func makeIterator() -> Iterator { Iterator(sequence: self) }

    public struct Iterator: IteratorProtocol {
        let sequence: StepSequence
        var position = 0

        public mutating func next() -> Int? {
            let step: Int
            if let steps = sequence.steps {
                guard position < steps.count else { return nil }
                step = steps[position]
            } else {
                step = sequence.start + position
            }
            position += 1
            guard let mediator = Mediator.current else {
                // A remote invoke's loop: the server begins the step.
                return RemoteEnvoyAccessScope.current?.beginStep(step, openEnded: sequence.steps == nil) == true ? step : nil
            }
            if sequence.steps == nil && !mediator.interleaver.isGeneration {
                // An open loop outside generation would never end.
                mediator.deferredError = NNsightError.invalidInput("an open-ended iter needs generate(...); bound it, e.g. iter(0..<3)")
                return nil
            }
            do {
                return try mediator.begin(step: step) ? step : nil
            } catch {
                // `for` cannot throw; the error surfaces at the invoke's next access.
                mediator.deferredError = error
                return nil
            }
        }
    }
}

extension Tracer {
    /// The steps `steps` (Python: `tracer.iter[a:b]`).
    public func iter(_ steps: Range<Int>) -> StepSequence { StepSequence(steps: Array(steps), start: 0) }
    /// The steps `steps` (Python: `tracer.iter[a:b+1]`).
    public func iter(_ steps: ClosedRange<Int>) -> StepSequence { StepSequence(steps: Array(steps), start: 0) }
    /// Every step from `steps.lowerBound` until generation ends (Python: `tracer.iter[a:]`).
    public func iter(_ steps: PartialRangeFrom<Int>) -> StepSequence { StepSequence(steps: nil, start: steps.lowerBound) }
    /// The listed steps, in order (Python: `tracer.iter[[0, 2, 4]]`).
    public func iter(_ steps: [Int]) -> StepSequence { StepSequence(steps: steps, start: 0) }
    /// One step (Python: `tracer.iter[i]`).
    public func iter(_ step: Int) -> StepSequence { StepSequence(steps: [step], start: 0) }
    /// Every step until generation ends (Python: `tracer.all()` / `tracer.iter[:]`).
    public func all() -> StepSequence { StepSequence(steps: nil, start: 0) }

    /// Moves the invoke on to the next step: later requests address call `n + count` of every
    /// module. Python: `tracer.next()`.
    public func next(_ count: Int = 1) throws {
        guard let mediator = Mediator.current else {
            throw NNsightError.outsideInterleaving(requester: "tracer.next", action: "call")
        }
        try mediator.advance(by: count)
    }

    /// Waits until step `step` begins and addresses later requests to it, raising at once what
    /// a loop's turn would defer; false when the run ended first (a server serving a remote
    /// client's `iter`).
    package func beginStep(_ step: Int) throws -> Bool {
        guard let mediator = Mediator.current else {
            throw NNsightError.outsideInterleaving(requester: "tracer.iter", action: "call")
        }
        return try mediator.begin(step: step)
    }

    /// The run's result for this invoke's rows, once the model returned: the generated ids
    /// `[rows, prompt + new]` of `generate`, the logits of a trace. Python: `tracer.result` /
    /// `model.generator.output`.
    public func result() throws -> Tensor {
        guard let mediator = Mediator.current else {
            throw NNsightError.outsideInterleaving(requester: "tracer.result", action: "access")
        }
        return try mediator.result()
    }
}
