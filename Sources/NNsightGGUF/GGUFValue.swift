/// The type tag of a GGUF metadata value (`gguf_type` in ggml).
public enum GGUFValueType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case uint8 = 0
    case int8 = 1
    case uint16 = 2
    case int16 = 3
    case uint32 = 4
    case int32 = 5
    case float32 = 6
    case bool = 7
    case string = 8
    case array = 9
    case uint64 = 10
    case int64 = 11
    case float64 = 12

    /// Size in bytes of one value of a fixed-size type; nil for strings and arrays.
    public var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string, .array: nil
        }
    }

    /// The least number of bytes one value of this type occupies in a file
    /// (strings: the length prefix; arrays: element type and count).
    var minimumEncodedSize: Int { fixedSize ?? (self == .string ? 8 : 12) }

    public var description: String {
        switch self {
        case .uint8: "UINT8"
        case .int8: "INT8"
        case .uint16: "UINT16"
        case .int16: "INT16"
        case .uint32: "UINT32"
        case .int32: "INT32"
        case .float32: "FLOAT32"
        case .bool: "BOOL"
        case .string: "STRING"
        case .array: "ARRAY"
        case .uint64: "UINT64"
        case .int64: "INT64"
        case .float64: "FLOAT64"
        }
    }
}

/// One GGUF metadata value.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    /// An array; every element has type `elementType` (arrays may nest).
    case array(elementType: GGUFValueType, [GGUFValue])
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    /// The value's type tag.
    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .float32: .float32
        case .bool: .bool
        case .string: .string
        case .array: .array
        case .uint64: .uint64
        case .int64: .int64
        case .float64: .float64
        }
    }

    /// A readable type name, including the element type of arrays (`ARRAY[STRING]`).
    public var typeDescription: String {
        if case .array(let element, _) = self { return "ARRAY[\(element)]" }
        return type.description
    }

    /// The value of any integer type, if it fits in `Int64`.
    var integerValue: Int64? {
        switch self {
        case .uint8(let v): Int64(v)
        case .int8(let v): Int64(v)
        case .uint16(let v): Int64(v)
        case .int16(let v): Int64(v)
        case .uint32(let v): Int64(v)
        case .int32(let v): Int64(v)
        case .uint64(let v): Int64(exactly: v)
        case .int64(let v): v
        default: nil
        }
    }

    /// True for the eight integer types.
    var isInteger: Bool {
        switch type {
        case .uint8, .int8, .uint16, .int16, .uint32, .int32, .uint64, .int64: true
        default: false
        }
    }
}

extension ByteCursor {
    /// Deepest array nesting the reader accepts (real files use at most 2).
    static let maximumArrayDepth = 8

    /// Reads one value of type `type` for metadata key `key`.
    mutating func readValue(
        _ type: GGUFValueType, key: String, depth: Int = 0
    ) throws(GGUFError.Reason) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try read(UInt8.self, "value of '\(key)'"))
        case .int8: return .int8(try read(Int8.self, "value of '\(key)'"))
        case .uint16: return .uint16(try read(UInt16.self, "value of '\(key)'"))
        case .int16: return .int16(try read(Int16.self, "value of '\(key)'"))
        case .uint32: return .uint32(try read(UInt32.self, "value of '\(key)'"))
        case .int32: return .int32(try read(Int32.self, "value of '\(key)'"))
        case .float32: return .float32(try readFloat("value of '\(key)'"))
        case .uint64: return .uint64(try read(UInt64.self, "value of '\(key)'"))
        case .int64: return .int64(try read(Int64.self, "value of '\(key)'"))
        case .float64: return .float64(try readDouble("value of '\(key)'"))
        case .bool:
            // ggml stores a bool as one byte; anything but 0 is true.
            return .bool(try read(UInt8.self, "value of '\(key)'") != 0)
        case .string:
            return .string(try readString("value of '\(key)'"))
        case .array:
            guard depth < Self.maximumArrayDepth else { throw .nestingTooDeep(key: key, offset: offset) }
            let tagOffset = offset
            let tag = try read(UInt32.self, "array element type of '\(key)'")
            guard let elementType = GGUFValueType(rawValue: tag) else {
                throw .unknownValueType(tag, key: key, offset: tagOffset)
            }
            let countOffset = offset
            let count = try read(UInt64.self, "array length of '\(key)'")
            // Refuse counts the remaining bytes cannot hold before allocating anything.
            guard count <= UInt64(remaining / elementType.minimumEncodedSize) else {
                throw .absurdCount(what: "array '\(key)' element", count: count, offset: countOffset)
            }
            var values: [GGUFValue] = []
            values.reserveCapacity(Int(count))
            for _ in 0 ..< Int(count) {
                values.append(try readValue(elementType, key: key, depth: depth + 1))
            }
            return .array(elementType: elementType, values)
        }
    }
}
