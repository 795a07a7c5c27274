/// Errors of the intervention engine. Each names the envoy path and what happened; Python
/// nnsight's exception of the same situation is given beside each case.
public enum NNsightError: Error, CustomStringConvertible, Equatable {
    /// `model.transformer.nonexistent` (Python: `AttributeError`).
    case unknownChild(path: String, name: String, valid: [String])
    /// `model.transformer.h[99]` (Python: `IndexError`).
    case indexOutOfRange(path: String, index: Int, count: Int)
    /// A value requested after the model already ran past it (Python: `OutOfOrderError`).
    case outOfOrder(requester: String)
    /// A value whose module never ran that time (Python: `MissedProviderError`).
    case missed(requester: String)
    /// `.output` read or written outside a running trace (Python: `ValueError("Cannot access …")`).
    case outsideInterleaving(requester: String, action: String)
    /// An invoke opened, or a trace started, while a model is running (Python: "Cannot invoke
    /// while the model is already running").
    case invokeDuringExecution
    /// An invoke added to a tracer whose trace has already run (Python: invoking a tracer after
    /// its `with` block ended).
    case tracerFinished
    /// A trace with no input and no invoke with input.
    case noInput
    /// The model cannot batch the inputs of several invokes.
    case batchingUnsupported(String)
    /// Inputs the model cannot take (an empty prompt, a string without a tokenizer, …).
    case invalidInput(String)
    /// Several input invokes where only some skip a module.
    case incompleteSkip(path: String)
    /// A barrier that not every participant reached.
    case barrierNeverReached(expected: Int, arrived: Int)
    /// A cache lookup for a module (or value) that was not recorded.
    case notCached(path: String)
    /// Raised into an invoke's closure when another invoke failed and the trace is unwinding.
    case cancelled
    /// A single-invoke trace or generation whose closure was ended by `stop()` has no result of
    /// type `expected` to return: give one with `stop(returning:)`.
    case stoppedWithoutResult(expected: String)
    /// `stop(returning:)` gave a value of type `got` where the trace's closure returns `expected`.
    case stopResultType(expected: String, got: String)

    public var description: String {
        switch self {
        case .unknownChild(let path, let name, let valid):
            return "\(path) has no child \"\(name)\"; its children are: \(valid.isEmpty ? "(none)" : valid.joined(separator: ", "))"
        case .indexOutOfRange(let path, let index, let count):
            return "index \(index) is out of range for \(path), which has \(count) children"
        case .outOfOrder(let requester):
            return "`\(requester)` was requested but the model already ran past it. Did you access envoys out of order (an earlier module after a later one, or .input after .output)?"
        case .missed(let requester):
            return "Execution complete but `\(requester)` was not provided: that module did not run that time (an untaken branch, a skipped parent, or an iteration that did not happen)."
        case .outsideInterleaving(let requester, let action):
            return "Cannot \(action) `\(requester)` outside of interleaving: use it inside a trace's closure."
        case .invokeDuringExecution:
            return "Cannot invoke while the model is already running."
        case .tracerFinished:
            return "Cannot invoke a tracer whose trace has already run: open a new trace."
        case .noInput:
            return "The trace has no input: pass one to trace(_:) or open invokes with inputs."
        case .batchingUnsupported(let reason):
            return "Batching is not supported here: \(reason)"
        case .invalidInput(let reason):
            return reason
        case .incompleteSkip(let path):
            return "Every input invoke must skip \(path) (or one prompt-less invoke must skip it for the whole batch); otherwise the batch would lose rows."
        case .barrierNeverReached(let expected, let arrived):
            return "A barrier waiting for \(expected) invokes was reached by only \(arrived); check the count it was created with."
        case .notCached(let path):
            return "'\(path)' was not cached (was the cache created before that module ran, with that module and value?)"
        case .cancelled:
            return "The trace was cancelled because another invoke failed."
        case .stoppedWithoutResult(let expected):
            return "The trace's closure was ended by stop() before it returned its \(expected); use stop(returning:) to give the result."
        case .stopResultType(let expected, let got):
            return "stop(returning:) gave a \(got), but the trace's closure returns \(expected); give a \(expected), or declare the closure's result type (`{ m, t -> \(got) in … }`)."
        }
    }
}
