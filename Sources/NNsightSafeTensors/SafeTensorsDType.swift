/// The element type of a safetensors tensor, spelled as in the file header (`"BF16"`).
///
/// All byte-sized dtypes of the safetensors format are supported. The sub-byte float
/// formats (`F4`, `F6_E2M3`, `F6_E3M2`) are not: their tensors are reported as `unknownDType`.
public enum SafeTensorsDType: String, Sendable, CaseIterable, CustomStringConvertible {
    case bool = "BOOL"
    case uint8 = "U8"
    case int8 = "I8"
    case float8E5M2 = "F8_E5M2"
    case float8E4M3 = "F8_E4M3"
    case float8E4M3FNUZ = "F8_E4M3FNUZ"
    case float8E5M2FNUZ = "F8_E5M2FNUZ"
    case float8E8M0 = "F8_E8M0"
    case int16 = "I16"
    case uint16 = "U16"
    case float16 = "F16"
    case bfloat16 = "BF16"
    case int32 = "I32"
    case uint32 = "U32"
    case float32 = "F32"
    case complex64 = "C64"
    case float64 = "F64"
    case int64 = "I64"
    case uint64 = "U64"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .bool, .uint8, .int8, .float8E5M2, .float8E4M3, .float8E4M3FNUZ, .float8E5M2FNUZ, .float8E8M0: 1
        case .int16, .uint16, .float16, .bfloat16: 2
        case .int32, .uint32, .float32: 4
        case .complex64, .float64, .int64, .uint64: 8
        }
    }

    /// Position in the reference implementation's dtype order (the declaration order here).
    var rank: Int { Self.allCases.firstIndex(of: self)! }

    /// The name used in the header.
    public var description: String { rawValue }
}

/// A Swift scalar type that is exactly one safetensors dtype, for typed copies of tensor data.
public protocol SafeTensorsScalar: Sendable {
    /// The dtype whose elements have this type's bit layout.
    static var safeTensorsDType: SafeTensorsDType { get }
}

extension Bool: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .bool } }
extension UInt8: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .uint8 } }
extension Int8: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .int8 } }
extension Int16: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .int16 } }
extension UInt16: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .uint16 } }
extension Int32: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .int32 } }
extension UInt32: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .uint32 } }
extension Float: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .float32 } }
extension Double: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .float64 } }
extension Int64: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .int64 } }
extension UInt64: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .uint64 } }
#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
extension Float16: SafeTensorsScalar { public static var safeTensorsDType: SafeTensorsDType { .float16 } }
#endif
