internal import CNNsightTorch

/// The element type of a tensor. Python: `torch.float32`, `torch.bfloat16`, `torch.int64`, ….
public enum DType: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case uint8, int8, int16, int32, int64, float16, float32, float64, bool, bfloat16

    public static let float: DType = .float32
    public static let half: DType = .float16
    public static let double: DType = .float64
    public static let long: DType = .int64

    init?(_ raw: ctorch_dtype) {
        switch raw {
        case CTORCH_UINT8: self = .uint8
        case CTORCH_INT8: self = .int8
        case CTORCH_INT16: self = .int16
        case CTORCH_INT32: self = .int32
        case CTORCH_INT64: self = .int64
        case CTORCH_FLOAT16: self = .float16
        case CTORCH_FLOAT32: self = .float32
        case CTORCH_FLOAT64: self = .float64
        case CTORCH_BOOL: self = .bool
        case CTORCH_BFLOAT16: self = .bfloat16
        default: return nil
        }
    }

    var raw: ctorch_dtype {
        switch self {
        case .uint8: CTORCH_UINT8
        case .int8: CTORCH_INT8
        case .int16: CTORCH_INT16
        case .int32: CTORCH_INT32
        case .int64: CTORCH_INT64
        case .float16: CTORCH_FLOAT16
        case .float32: CTORCH_FLOAT32
        case .float64: CTORCH_FLOAT64
        case .bool: CTORCH_BOOL
        case .bfloat16: CTORCH_BFLOAT16
        }
    }

    /// Bytes per element.
    public var byteCount: Int { Int(ctorch_element_size(raw)) }

    public var isFloatingPoint: Bool { [.float16, .float32, .float64, .bfloat16].contains(self) }

    /// PyTorch's name, as in `torch.float32`.
    public var description: String {
        switch self {
        case .uint8: "torch.uint8"
        case .int8: "torch.int8"
        case .int16: "torch.int16"
        case .int32: "torch.int32"
        case .int64: "torch.int64"
        case .float16: "torch.float16"
        case .float32: "torch.float32"
        case .float64: "torch.float64"
        case .bool: "torch.bool"
        case .bfloat16: "torch.bfloat16"
        }
    }
}

/// Where a tensor lives. `.meta` tensors carry shape and dtype only (Python: `device="meta"`).
public enum Device: Sendable, Hashable, CustomStringConvertible {
    case cpu
    case cuda(Int)
    case meta
    /// Apple GPUs through Metal (Python: `device="mps"`). Only macOS builds of libtorch have it;
    /// elsewhere every operation asked to use it throws a `TorchError` of kind `.value` naming it.
    case mps
    /// A device this layer has no case for (XPU, a privateuse backend), as libtorch reported it.
    case other(Int)

    init(_ raw: ctorch_device) {
        switch raw.type {
        case CTORCH_CUDA: self = .cuda(Int(max(raw.index, 0)))
        case CTORCH_META: self = .meta
        case CTORCH_MPS: self = .mps
        case CTORCH_CPU: self = .cpu
        default: self = .other(Int(raw.index))
        }
    }

    var raw: ctorch_device {
        switch self {
        case .cpu: ctorch_device(type: CTORCH_CPU, index: -1)
        case .cuda(let index): ctorch_device(type: CTORCH_CUDA, index: Int32(index))
        case .meta: ctorch_device(type: CTORCH_META, index: -1)
        case .mps: ctorch_device(type: CTORCH_MPS, index: -1)
        case .other(let index): ctorch_device(type: CTORCH_DEVICE_OTHER, index: Int32(index))
        }
    }

    public var description: String {
        switch self {
        case .cpu: "cpu"
        case .cuda(let index): "cuda:\(index)"
        case .meta: "meta"
        case .mps: "mps"
        case .other(let index): "other:\(index)"
        }
    }
}

/// A number handed to an op, integral or floating as written (libtorch's `Scalar`).
public enum Scalar: Sendable, Hashable {
    case int(Int64)
    case double(Double)
    case bool(Bool)

    var raw: ctorch_scalar {
        switch self {
        case .int(let value): ctorch_scalar(kind: CTORCH_SCALAR_INT, i: value, f: 0)
        case .double(let value): ctorch_scalar(kind: CTORCH_SCALAR_FLOAT, i: 0, f: value)
        case .bool(let value): ctorch_scalar(kind: CTORCH_SCALAR_BOOL, i: value ? 1 : 0, f: 0)
        }
    }
}

/// Swift numbers that can stand for a `Scalar`.
public protocol ScalarConvertible: Sendable {
    var scalar: Scalar { get }
}

extension Int: ScalarConvertible { public var scalar: Scalar { .int(Int64(self)) } }
extension Int64: ScalarConvertible { public var scalar: Scalar { .int(self) } }
extension Int32: ScalarConvertible { public var scalar: Scalar { .int(Int64(self)) } }
extension Double: ScalarConvertible { public var scalar: Scalar { .double(self) } }
extension Float: ScalarConvertible { public var scalar: Scalar { .double(Double(self)) } }
extension Bool: ScalarConvertible { public var scalar: Scalar { .bool(self) } }
