/// Everything that can go wrong reading a GGUF file, with the place it went wrong.
///
/// Every malformed input (bad magic, unsupported version, truncation, strings or tensors past
/// the end of the file, unknown types, absurd counts) becomes one of these errors; the reader
/// never traps on untrusted bytes.
public struct GGUFError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong.
    public enum Reason: Error, Sendable, Equatable {
        /// The file could not be opened or mapped.
        case cannotOpen(reason: String)
        /// The first four bytes are not `GGUF`.
        case badMagic(found: UInt32)
        /// The header's version is not 2 or 3 (version 1 used 32-bit counts and is obsolete).
        case unsupportedVersion(UInt32)
        /// Reading `what` at `offset` needed `needed` bytes, but only `available` remain.
        case truncated(what: String, offset: Int, needed: Int, available: Int)
        /// A string at `offset` declares a length that runs past the end of the file.
        case stringPastEnd(what: String, offset: Int, length: UInt64, available: Int)
        /// A count (tensors, metadata pairs, array elements, dimensions) cannot be right: the
        /// rest of the file is too short to hold that many entries.
        case absurdCount(what: String, count: UInt64, offset: Int)
        /// A metadata value type tag that GGUF does not define.
        case unknownValueType(UInt32, key: String, offset: Int)
        /// Arrays nested deeper than the reader allows.
        case nestingTooDeep(key: String, offset: Int)
        /// A key appears twice in the metadata.
        case duplicateKey(String)
        /// `general.alignment` is zero, not a power of two, or not an unsigned 32-bit integer.
        case invalidAlignment(key: String, value: String)
        /// A tensor type tag that ggml does not define (or that this reader does not know).
        case unknownTensorType(UInt32, tensor: String)
        /// Two tensors share a name.
        case duplicateTensor(String)
        /// A tensor's dimensions are invalid (too many, negative, overflowing, or not a whole
        /// number of quantization blocks).
        case invalidTensorShape(tensor: String, dimensions: [UInt64], why: String)
        /// A tensor's offset is not a multiple of the file's alignment.
        case misalignedTensor(tensor: String, offset: UInt64, alignment: Int)
        /// A tensor's bytes run past the end of the file.
        case tensorDataPastEnd(tensor: String, offset: UInt64, byteCount: Int, dataSectionSize: Int)
        /// No metadata value has this key.
        case missingKey(String)
        /// A metadata value has a different type than the accessor asked for.
        case typeMismatch(key: String, expected: String, found: String)
        /// A metadata value does not fit the requested Swift type (e.g. a UInt64 above Int.max).
        case valueOutOfRange(key: String, value: String, target: String)
        /// No tensor has this name.
        case tensorNotFound(String)
        /// The tensor's type cannot be dequantized (or viewed as requested) by this library.
        case unsupportedTensorType(tensor: String, type: String, operation: String)
        /// A destination buffer or Llama permutation argument has the wrong size.
        case invalidArgument(String)
    }

    /// What was wrong.
    public let reason: Reason
    /// The file's path, or nil when the bytes came from memory.
    public let file: String?

    public init(_ reason: Reason, file: String? = nil) {
        self.reason = reason
        self.file = file
    }

    public var description: String {
        let place = file.map { " in \($0)" } ?? ""
        switch reason {
        case .cannotOpen(let why):
            return "GGUF: cannot open file\(place): \(why)"
        case .badMagic(let found):
            let hex = String(found, radix: 16)
            return "GGUF: bad magic 0x\(hex)\(place) (expected \"GGUF\"); not a GGUF file"
        case .unsupportedVersion(let v):
            return "GGUF: unsupported version \(v)\(place) (supported: 2, 3)"
        case .truncated(let what, let offset, let needed, let available):
            return "GGUF: file truncated\(place) reading \(what) at offset \(offset): "
                + "needed \(needed) bytes, \(available) available"
        case .stringPastEnd(let what, let offset, let length, let available):
            return "GGUF: string \(what) at offset \(offset)\(place) has length \(length) "
                + "but only \(available) bytes remain"
        case .absurdCount(let what, let count, let offset):
            return "GGUF: \(what) count \(count) at offset \(offset)\(place) exceeds what the file can hold"
        case .unknownValueType(let tag, let key, let offset):
            return "GGUF: unknown metadata value type \(tag) for key '\(key)' at offset \(offset)\(place)"
        case .nestingTooDeep(let key, let offset):
            return "GGUF: arrays nested too deeply in key '\(key)' at offset \(offset)\(place)"
        case .duplicateKey(let key):
            return "GGUF: duplicate metadata key '\(key)'\(place)"
        case .invalidAlignment(let key, let value):
            return "GGUF: invalid \(key) = \(value)\(place) (must be a power of two)"
        case .unknownTensorType(let tag, let tensor):
            return "GGUF: unknown tensor type \(tag) for tensor '\(tensor)'\(place)"
        case .duplicateTensor(let name):
            return "GGUF: duplicate tensor name '\(name)'\(place)"
        case .invalidTensorShape(let tensor, let dims, let why):
            return "GGUF: tensor '\(tensor)' has invalid dimensions \(dims)\(place): \(why)"
        case .misalignedTensor(let tensor, let offset, let alignment):
            return "GGUF: tensor '\(tensor)' offset \(offset)\(place) is not a multiple of the alignment \(alignment)"
        case .tensorDataPastEnd(let tensor, let offset, let byteCount, let size):
            return "GGUF: tensor '\(tensor)' data [\(offset), +\(byteCount)) runs past the end of "
                + "the \(size)-byte data section\(place)"
        case .missingKey(let key):
            return "GGUF: no metadata key '\(key)'\(place)"
        case .typeMismatch(let key, let expected, let found):
            return "GGUF: metadata key '\(key)'\(place) is \(found), expected \(expected)"
        case .valueOutOfRange(let key, let value, let target):
            return "GGUF: metadata key '\(key)'\(place) value \(value) does not fit \(target)"
        case .tensorNotFound(let name):
            return "GGUF: no tensor named '\(name)'\(place)"
        case .unsupportedTensorType(let tensor, let type, let operation):
            return "GGUF: cannot \(operation) tensor '\(tensor)' of type \(type)\(place)"
        case .invalidArgument(let why):
            return "GGUF: invalid argument: \(why)"
        }
    }
}
