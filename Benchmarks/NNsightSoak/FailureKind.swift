import NNsight
import NNsightTorch

/// The error that the soak's interventions throw from user code.
public struct SoakUserError: Error, Equatable, Sendable {
    public let round: Int
}

/// One way an intervention can fail: every failure kind the engine has, each provoked on a
/// `LanguageModel` whose tree has nnterp-style paths (`model.layers`, `lm_head`), as the default
/// model's does.
public enum FailureKind: String, CaseIterable, Sendable {
    /// A later module read before an earlier one: `NNsightError.outOfOrder`.
    case outOfOrder
    /// A call of a module that never happens (`.next()` past the only call): `NNsightError.missed`.
    case missed
    /// `m.model.nonexistent`: `NNsightError.unknownChild`.
    case unknownChild
    /// `m.model.layers[99]`: `NNsightError.indexOutOfRange`.
    case envoyIndexOutOfRange
    /// `output[0, 999]` through the subscript (the error sink): `TorchError.index`.
    case tensorIndexOutOfRange
    /// `output[..., ::-1]` (a negative step): a `TorchError`.
    case badSlice
    /// `setOutput` with a tensor of the wrong width; the next layer fails: a `TorchError`.
    case wrongShapeWrite
    /// The closure writes an activation, then throws its own error: that error, unchanged.
    case userError
    /// `tracer.stop()` after a read, in an invoke: the trace returns, the read value kept.
    case stop
    /// `tracer.stop()` in the single-invoke form (`trace(x) { m, t in ... }`): a clean return of
    /// the trace, or a typed error, never a crash.
    case stopSingleInvoke
    /// A barrier of 3 that only 2 invokes reach: `NNsightError.barrierNeverReached`.
    case barrierNeverReached
    /// A backward body that reads a gradient, then throws: the body's error, unchanged.
    case backwardBodyError
    /// A later module read before an earlier one while generating: `NNsightError.outOfOrder`.
    case outOfOrderInGeneration
    /// `invoke` on a tracer whose trace already ran, then a trace with it: a typed error, or
    /// the invoke ignored (it can never run), never a crash.
    case invokeOnFinishedTracer
}

/// What came of one provoked failure.
public enum Outcome: Equatable, Sendable {
    /// The error (or, for `stop`, the clean early end) the kind calls for.
    case expected
    /// Some other error came out, described.
    case unexpectedError(String)
    /// The trace returned normally where an error was due.
    case noError
}
