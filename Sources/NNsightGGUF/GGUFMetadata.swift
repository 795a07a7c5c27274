/// The key/value metadata of a GGUF file, in file order, with typed accessors.
///
/// ```swift
/// let layers = try file.metadata.int("llama.block_count")             // 30
/// let tokens = try file.metadata.strings("tokenizer.ggml.tokens")     // 49152 strings
/// let pad = try file.metadata.optional("tokenizer.ggml.padding_token_id", as: Int.self)
/// ```
/// Integer accessors accept any of GGUF's eight integer types (range-checked); float
/// accessors accept FLOAT32 and FLOAT64. Anything else is a `typeMismatch` naming the key.
public struct GGUFMetadata: Sendable, Equatable {
    /// Keys in file order.
    public let keys: [String]
    /// All values by key.
    public let values: [String: GGUFValue]
    /// The file the metadata came from, used in error messages.
    let file: String?

    init(keys: [String], values: [String: GGUFValue], file: String?) {
        self.keys = keys
        self.values = values
        self.file = file
    }

    /// Equal when the keys (in order) and values are; where the metadata came from is ignored.
    public static func == (lhs: GGUFMetadata, rhs: GGUFMetadata) -> Bool {
        lhs.keys == rhs.keys && lhs.values == rhs.values
    }

    /// The number of key/value pairs.
    public var count: Int { keys.count }

    /// The raw value for `key`, or nil if absent.
    public subscript(key: String) -> GGUFValue? { values[key] }

    /// Whether the metadata has `key`.
    public func contains(_ key: String) -> Bool { values[key] != nil }

    /// The value for `key` converted to `T`; throws `missingKey` or `typeMismatch`.
    public func value<T: GGUFMetadataConvertible>(_ key: String, as type: T.Type = T.self) throws(GGUFError) -> T {
        guard let value = values[key] else { throw GGUFError(.missingKey(key), file: file) }
        do {
            return try T(gguf: value, key: key)
        } catch {
            throw GGUFError(error, file: file)
        }
    }

    /// The value for `key` converted to `T`, or nil if the key is absent; a present value of the
    /// wrong type still throws.
    public func optional<T: GGUFMetadataConvertible>(_ key: String, as type: T.Type = T.self) throws(GGUFError) -> T? {
        guard values[key] != nil else { return nil }
        return try value(key, as: T.self)
    }

    /// A STRING value.
    public func string(_ key: String) throws(GGUFError) -> String { try value(key) }
    /// An integer value of any integer type, as `Int`.
    public func int(_ key: String) throws(GGUFError) -> Int { try value(key) }
    /// A FLOAT32 or FLOAT64 value, as `Float`.
    public func float(_ key: String) throws(GGUFError) -> Float { try value(key) }
    /// A FLOAT32 or FLOAT64 value, as `Double`.
    public func double(_ key: String) throws(GGUFError) -> Double { try value(key) }
    /// A BOOL value.
    public func bool(_ key: String) throws(GGUFError) -> Bool { try value(key) }
    /// An array of STRING.
    public func strings(_ key: String) throws(GGUFError) -> [String] { try value(key) }
    /// An array of any integer type, as `[Int]`.
    public func ints(_ key: String) throws(GGUFError) -> [Int] { try value(key) }
    /// An array of FLOAT32 or FLOAT64, as `[Float]`.
    public func floats(_ key: String) throws(GGUFError) -> [Float] { try value(key) }
    /// An array of BOOL.
    public func bools(_ key: String) throws(GGUFError) -> [Bool] { try value(key) }
}

/// A Swift type that a GGUF metadata value can be read as.
public protocol GGUFMetadataConvertible: Sendable {
    /// Converts `value` (stored under `key`), throwing `typeMismatch` or `valueOutOfRange`.
    init(gguf value: GGUFValue, key: String) throws(GGUFError.Reason)
}

extension String: GGUFMetadataConvertible {
    public init(gguf value: GGUFValue, key: String) throws(GGUFError.Reason) {
        guard case .string(let s) = value else {
            throw .typeMismatch(key: key, expected: "STRING", found: value.typeDescription)
        }
        self = s
    }
}

extension Bool: GGUFMetadataConvertible {
    public init(gguf value: GGUFValue, key: String) throws(GGUFError.Reason) {
        guard case .bool(let b) = value else {
            throw .typeMismatch(key: key, expected: "BOOL", found: value.typeDescription)
        }
        self = b
    }
}

extension Int: GGUFMetadataConvertible {
    public init(gguf value: GGUFValue, key: String) throws(GGUFError.Reason) {
        guard value.isInteger else {
            throw .typeMismatch(key: key, expected: "an integer", found: value.typeDescription)
        }
        guard let v = value.integerValue, let i = Int(exactly: v) else {
            throw .valueOutOfRange(key: key, value: "\(value)", target: "Int")
        }
        self = i
    }
}

extension Double: GGUFMetadataConvertible {
    public init(gguf value: GGUFValue, key: String) throws(GGUFError.Reason) {
        switch value {
        case .float32(let f): self = Double(f)
        case .float64(let d): self = d
        default: throw .typeMismatch(key: key, expected: "FLOAT32 or FLOAT64", found: value.typeDescription)
        }
    }
}

extension Float: GGUFMetadataConvertible {
    public init(gguf value: GGUFValue, key: String) throws(GGUFError.Reason) {
        switch value {
        case .float32(let f): self = f
        case .float64(let d): self = Float(d)
        default: throw .typeMismatch(key: key, expected: "FLOAT32 or FLOAT64", found: value.typeDescription)
        }
    }
}

extension Array: GGUFMetadataConvertible where Element: GGUFMetadataConvertible {
    public init(gguf value: GGUFValue, key: String) throws(GGUFError.Reason) {
        guard case .array(_, let elements) = value else {
            throw .typeMismatch(key: key, expected: "ARRAY", found: value.typeDescription)
        }
        var result: [Element] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            do {
                result.append(try Element(gguf: element, key: key))
            } catch {
                if case .typeMismatch(_, let expected, _) = error {
                    throw .typeMismatch(key: key, expected: "ARRAY[\(expected)]", found: value.typeDescription)
                }
                throw error
            }
        }
        self = result
    }
}
