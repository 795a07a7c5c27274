internal import CNNsightTorch
import Foundation

/// An error raised by libtorch (or by the Swift layer over it), with libtorch's message.
///
/// Python: the `IndexError`, `ValueError`, `TypeError`, `NotImplementedError`,
/// `torch.OutOfMemoryError` or `RuntimeError` that the same operation raises in PyTorch.
public struct TorchError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure this is; mirrors libtorch's error classes.
    public enum Kind: String, Sendable, Equatable {
        case index, value, type, notImplemented, outOfMemory, other
        /// A gradient hook written in Swift threw; the hook's own error is in `underlying`.
        case hookFailed
        /// The libtorch found at run time is not the one the shim was built against.
        case libraryMismatch
        case unknown
    }

    public let kind: Kind
    /// libtorch's message, without its C++ backtrace.
    public let message: String
    /// The Swift error a gradient hook threw, for `.hookFailed`.
    public let underlying: (any Error)?

    public init(_ kind: Kind, _ message: String, underlying: (any Error)? = nil) {
        self.kind = kind
        self.message = message
        self.underlying = underlying
    }

    public var description: String { "TorchError.\(kind): \(message)" }

    public static func == (lhs: TorchError, rhs: TorchError) -> Bool {
        lhs.kind == rhs.kind && lhs.message == rhs.message
    }

    /// The error of the last failed shim call on this thread.
    static func last(_ status: ctorch_status) -> TorchError {
        let message = String(cString: ctorch_last_error())
        switch Int32(status) {
        case Int32(CTORCH_ERR_INDEX): return TorchError(.index, message)
        case Int32(CTORCH_ERR_VALUE): return TorchError(.value, message)
        case Int32(CTORCH_ERR_TYPE): return TorchError(.type, message)
        case Int32(CTORCH_ERR_NOT_IMPLEMENTED): return TorchError(.notImplemented, message)
        case Int32(CTORCH_ERR_OUT_OF_MEMORY): return TorchError(.outOfMemory, message)
        case Int32(CTORCH_ERR_OTHER): return TorchError(.other, message)
        case Int32(CTORCH_ERR_CALLBACK):
            let failure = GradHookFailure.take()
            return TorchError(.hookFailed, failure.map { "a gradient hook threw: \($0)" } ?? message,
                              underlying: failure)
        default: return TorchError(.unknown, message)
        }
    }
}

/// Throws the last error unless `status` is OK.
@inline(__always)
func check(_ status: ctorch_status) throws(TorchError) {
    if status != CTORCH_OK { throw TorchError.last(status) }
}

/// A new reference (+1) to the tensor behind a borrowed handle; fails only when out of memory.
func retainedHandle(_ handle: ctorch_tensor) throws(TorchError) -> ctorch_tensor {
    var out: ctorch_tensor?
    let status = ctorch_tensor_retain(handle, &out)
    guard status == CTORCH_OK, let out else { throw TorchError.last(status) }
    return out
}

/// Calls a shim function that produces one tensor.
@inline(__always)
func produce(_ body: (UnsafeMutablePointer<ctorch_tensor?>) -> ctorch_status) throws(TorchError) -> Tensor {
    var out: ctorch_tensor?
    let status = body(&out)
    guard status == CTORCH_OK, let out else { throw TorchError.last(status) }
    return Tensor(owning: out)
}

/// Calls a shim function that produces two tensors (values and indices).
@inline(__always)
func producePair(
    _ body: (UnsafeMutablePointer<ctorch_tensor?>, UnsafeMutablePointer<ctorch_tensor?>) -> ctorch_status
) throws(TorchError) -> (Tensor, Tensor) {
    var first: ctorch_tensor?
    var second: ctorch_tensor?
    let status = body(&first, &second)
    guard status == CTORCH_OK, let first, let second else { throw TorchError.last(status) }
    return (Tensor(owning: first), Tensor(owning: second))
}
