import NNsight
import NNsightTorch

/// Provokes one failure of each kind on a language model and classifies what came back.
public struct FailureProvoker {
    public let model: LanguageModel
    /// A short prompt: the failing traces cost little beyond the engine's own work.
    public let prompt: String

    public init(model: LanguageModel, prompt: String = "Hi") {
        self.model = model
        self.prompt = prompt
    }

    /// Runs one failing intervention of `kind` (round `round`, carried by the user errors).
    public func provoke(_ kind: FailureKind, round: Int = 0) -> Outcome {
        do {
            switch kind {
            case .stop: return try stopInOpenInvoke()
            case .stopSingleInvoke: return try stopInSingleInvoke()
            case .invokeOnFinishedTracer: return try invokeOnFinishedTracer()
            default:
                try run(kind, round: round)
                return .noError
            }
        } catch {
            return Self.classify(error, for: kind, round: round)
        }
    }

    /// The interventions that must throw.
    private func run(_ kind: FailureKind, round: Int) throws {
        let p = prompt
        switch kind {
        case .outOfOrder:
            try model.trace(p) { m in
                _ = try m.model.layers[5].output
                _ = try m.model.layers[2].output
            }
        case .missed:
            try model.trace(p) { m in _ = try m.model.layers[0].next().output }
        case .unknownChild:
            try model.trace(p) { m in _ = try m.model.nonexistent.output }
        case .envoyIndexOutOfRange:
            try model.trace(p) { m in _ = try m.model.layers[99].output }
        case .tensorIndexOutOfRange:
            try model.trace(p) { m in
                _ = try m.model.layers[3].output[0, 999]  // fails into the trace's error sink
                _ = try m.model.layers[4].output  // the next step reports it
            }
        case .badSlice:
            try model.trace(p) { m in
                _ = try m.model.layers[3].output[.ellipsis, .slice(step: -1)]
                _ = try m.model.layers[4].output
            }
        case .wrongShapeWrite:
            try model.trace(p) { m in
                let hidden = try m.model.layers[3].output
                try m.model.layers[3].setOutput(try Tensor.zeros([hidden.shape[0], hidden.shape[1], 7]))
                _ = try m.lm_head.output
            }
        case .userError:
            try model.trace(p) { m in
                try m.model.layers[2].output[.all] = 0
                throw SoakUserError(round: round)
            }
        case .barrierNeverReached:
            try model.trace { t in
                let barrier = t.barrier(3)
                try t.invoke(p) { m in
                    _ = try m.model.layers[1].output
                    try barrier()
                }
                try t.invoke(p) { _ in try barrier() }
            }
        case .backwardBodyError:
            try model.trace(p) { m in
                let hidden = try m.model.layers[28].output.requiresGrad_()
                let loss = try m.lm_head.output.sum()
                try loss.backward { g in
                    _ = try g.grad(of: hidden)
                    throw SoakUserError(round: round)
                }
            }
        case .outOfOrderInGeneration:
            try model.generate(p, maxNewTokens: 2) { m, _ in
                _ = try m.model.layers[5].output
                _ = try m.model.layers[2].output
            }
        case .stop, .stopSingleInvoke, .invokeOnFinishedTracer:
            break
        }
    }

    /// `tracer.stop()` after a read: the trace returns and the value read before is kept.
    private func stopInOpenInvoke() throws -> Outcome {
        var kept: Tensor?
        try model.trace { t in
            try t.invoke(prompt) { m in
                kept = try m.model.layers[1].output
                try t.stop()
            }
        }
        guard let kept, kept.isDefined else { return .unexpectedError("the value read before stop() was lost") }
        return .expected
    }

    /// `tracer.stop()` in the single-invoke form: a clean return or a typed error.
    private func stopInSingleInvoke() throws -> Outcome {
        do {
            _ = try model.trace(prompt) { m, t -> Tensor in
                _ = try m.model.layers[1].output
                try t.stop()
            }
            return .expected
        } catch is NNsightError {
            return .expected
        }
    }

    /// `invoke` on a tracer whose trace has run: `NNsightError.tracerFinished`, and the body
    /// never runs.
    private func invokeOnFinishedTracer() throws -> Outcome {
        var finished: Tracer<LanguageModel>?
        try model.trace { t in
            finished = t
            try t.invoke(prompt) { m in _ = try m.model.layers[0].output }
        }
        var ran = false
        try finished?.invoke(prompt) { _ in ran = true }
        finished = nil
        return ran ? .unexpectedError("an invoke on a finished tracer ran") : .noError
    }

    /// Whether `error` is what `kind` calls for.
    static func classify(_ error: any Error, for kind: FailureKind, round: Int) -> Outcome {
        let matches: Bool
        switch (kind, error) {
        case (.outOfOrder, NNsightError.outOfOrder), (.outOfOrderInGeneration, NNsightError.outOfOrder),
             (.missed, NNsightError.missed), (.unknownChild, NNsightError.unknownChild),
             (.envoyIndexOutOfRange, NNsightError.indexOutOfRange),
             (.barrierNeverReached, NNsightError.barrierNeverReached),
             (.invokeOnFinishedTracer, NNsightError.tracerFinished):
            matches = true
        case (.tensorIndexOutOfRange, let error as TorchError): matches = error.kind == .index
        case (.badSlice, let error as TorchError): matches = error.kind == .value
        case (.wrongShapeWrite, let error as TorchError): matches = error.kind == .other
        case (.userError, let error as SoakUserError), (.backwardBodyError, let error as SoakUserError):
            matches = error.round == round
        default: matches = false
        }
        return matches ? .expected : .unexpectedError("\(type(of: error)): \(error)")
    }
}
