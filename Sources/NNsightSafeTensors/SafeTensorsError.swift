/// Everything that can go wrong reading or writing safetensors, with the place it went wrong.
///
/// Malformed files (truncated, bad header length, bad JSON, unknown dtype, overlapping or
/// gapped offsets, sizes that disagree with shapes) become one of these errors; the reader
/// never traps on untrusted bytes.
public struct SafeTensorsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong.
    public enum Reason: Error, Sendable, Equatable {
        /// The file could not be opened, mapped, read or written.
        case cannotOpen(reason: String)
        /// The file is shorter than the 8-byte header length.
        case fileTooSmall(size: Int)
        /// The header length exceeds the 100 MB limit the reference implementation uses.
        case headerTooLarge(length: UInt64, limit: Int)
        /// The header length runs past the end of the file.
        case headerPastEnd(length: UInt64, fileSize: Int)
        /// The header is not a JSON object of the expected form (`at` is the JSON path).
        case invalidHeader(at: String, why: String)
        /// A tensor's dtype is not a safetensors dtype this library knows.
        case unknownDType(tensor: String, dtype: String)
        /// A tensor's shape is negative or its size overflows.
        case invalidShape(tensor: String, shape: [Int], why: String)
        /// A tensor's `data_offsets` are malformed, overlap another tensor's, or leave a gap.
        case invalidOffsets(tensor: String, begin: Int, end: Int, why: String)
        /// A tensor's byte range does not match its dtype and shape.
        case sizeMismatch(tensor: String, expectedBytes: Int, actualBytes: Int)
        /// The tensors do not cover the data section exactly (it is longer or shorter).
        case dataSizeMismatch(tensorBytes: Int, dataSectionBytes: Int)
        /// No tensor has this name.
        case tensorNotFound(String)
        /// A typed read asked for a Swift type that does not match the tensor's dtype.
        case dtypeMismatch(tensor: String, dtype: String, requested: String)
        /// `model.safetensors.index.json` is malformed or names a shard that is unusable.
        case invalidIndex(why: String)
        /// A tensor passed to the writer is invalid (bad name, or bytes that disagree with its shape).
        case invalidTensor(name: String, why: String)
    }

    /// What was wrong.
    public let reason: Reason
    /// The file concerned, or nil when the bytes came from memory.
    public let file: String?

    public init(_ reason: Reason, file: String? = nil) {
        self.reason = reason
        self.file = file
    }

    public var description: String {
        let place = file.map { " in \($0)" } ?? ""
        switch reason {
        case .cannotOpen(let why):
            return "safetensors: cannot open file\(place): \(why)"
        case .fileTooSmall(let size):
            return "safetensors: file\(place) has \(size) bytes, too small for the 8-byte header length"
        case .headerTooLarge(let length, let limit):
            return "safetensors: header length \(length)\(place) exceeds the limit of \(limit) bytes"
        case .headerPastEnd(let length, let size):
            return "safetensors: header length \(length)\(place) runs past the end of the \(size)-byte file"
        case .invalidHeader(let at, let why):
            return "safetensors: invalid header\(place) at \(at): \(why)"
        case .unknownDType(let tensor, let dtype):
            return "safetensors: tensor '\(tensor)'\(place) has unknown dtype '\(dtype)'"
        case .invalidShape(let tensor, let shape, let why):
            return "safetensors: tensor '\(tensor)'\(place) has invalid shape \(shape): \(why)"
        case .invalidOffsets(let tensor, let begin, let end, let why):
            return "safetensors: tensor '\(tensor)'\(place) has invalid data_offsets [\(begin), \(end)]: \(why)"
        case .sizeMismatch(let tensor, let expected, let actual):
            return "safetensors: tensor '\(tensor)'\(place) spans \(actual) bytes but its dtype and shape need \(expected)"
        case .dataSizeMismatch(let tensorBytes, let dataBytes):
            return "safetensors: tensors cover \(tensorBytes) bytes but the data section\(place) has \(dataBytes)"
        case .tensorNotFound(let name):
            return "safetensors: no tensor named '\(name)'\(place)"
        case .dtypeMismatch(let tensor, let dtype, let requested):
            return "safetensors: tensor '\(tensor)'\(place) is \(dtype), cannot be read as \(requested)"
        case .invalidIndex(let why):
            return "safetensors: invalid sharded index\(place): \(why)"
        case .invalidTensor(let name, let why):
            return "safetensors: cannot write tensor '\(name)'\(place): \(why)"
        }
    }
}
