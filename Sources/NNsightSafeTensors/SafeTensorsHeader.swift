import Foundation

/// One tensor entry of a safetensors header.
public struct SafeTensorInfo: Sendable, Equatable {
    /// The tensor's name (`model.layers.0.self_attn.q_proj.weight`).
    public let name: String
    /// The element type.
    public let dtype: SafeTensorsDType
    /// The shape, row-major (`[]` for a scalar).
    public let shape: [Int]
    /// Byte range of the tensor within the data section (after the header).
    public let dataOffsets: Range<Int>

    /// Number of elements (1 for a scalar, 0 if any dimension is 0).
    public var elementCount: Int { shape.reduce(1, *) }
    /// Number of bytes.
    public var byteCount: Int { dataOffsets.count }
}

/// The parsed and validated JSON header of a safetensors file.
///
/// File layout: UInt64 little-endian header length `N`, `N` bytes of UTF-8 JSON
/// (`{"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, …,
/// "__metadata__": {"key": "value"}}`), then the data section. Validation follows the
/// reference implementation: the header fits in the file and under 100 MB, every dtype is
/// known, every byte range matches its dtype and shape, and the ranges tile the data section
/// exactly (no overlap, no gap, nothing left over).
struct SafeTensorsHeader {
    /// Largest header accepted (the reference implementation's `MAX_HEADER_SIZE`).
    static let maximumLength = 100_000_000

    var tensors: [SafeTensorInfo]
    var metadata: [String: String]
    /// Absolute offset of the data section (8 + header length).
    var dataStart: Int

    /// Parses and validates the header of the file `bytes`.
    init(parsing bytes: UnsafeRawBufferPointer) throws(SafeTensorsError.Reason) {
        guard bytes.count >= 8 else { throw .fileTooSmall(size: bytes.count) }
        let length = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard length <= UInt64(Self.maximumLength) else {
            throw .headerTooLarge(length: length, limit: Self.maximumLength)
        }
        guard length <= UInt64(bytes.count - 8) else { throw .headerPastEnd(length: length, fileSize: bytes.count) }
        let json = Data(UnsafeRawBufferPointer(rebasing: bytes[8 ..< 8 + Int(length)]))
        dataStart = 8 + Int(length)

        let raw: RawHeader
        do {
            raw = try JSONDecoder().decode(RawHeader.self, from: json)
        } catch let error as SafeTensorsError.Reason {
            throw error
        } catch let DecodingError.dataCorrupted(context) {
            throw .invalidHeader(at: Self.path(context.codingPath), why: Self.describe(context))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw .invalidHeader(at: Self.path(context.codingPath), why: context.debugDescription)
        } catch let DecodingError.keyNotFound(key, context) {
            throw .invalidHeader(at: Self.path(context.codingPath), why: "missing key '\(key.stringValue)'")
        } catch {
            throw .invalidHeader(at: "$", why: "\(error)")
        }
        metadata = raw.metadata ?? [:]

        var tensors: [SafeTensorInfo] = []
        for (name, entry) in raw.entries {
            guard let dtype = SafeTensorsDType(rawValue: entry.dtype) else {
                throw .unknownDType(tensor: name, dtype: entry.dtype)
            }
            var elements = 1
            for d in entry.shape {
                guard d >= 0 else { throw .invalidShape(tensor: name, shape: entry.shape, why: "negative dimension") }
                let (p, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw .invalidShape(tensor: name, shape: entry.shape, why: "size overflows") }
                elements = p
            }
            let (bytesNeeded, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow else { throw .invalidShape(tensor: name, shape: entry.shape, why: "size overflows") }
            guard entry.dataOffsets.count == 2 else {
                throw .invalidHeader(at: "$.\(name).data_offsets", why: "expected [begin, end], got \(entry.dataOffsets.count) numbers")
            }
            let (begin, end) = (entry.dataOffsets[0], entry.dataOffsets[1])
            guard begin >= 0, begin <= end else {
                throw .invalidOffsets(tensor: name, begin: begin, end: end, why: "begin must be >= 0 and <= end")
            }
            guard end - begin == bytesNeeded else {
                throw .sizeMismatch(tensor: name, expectedBytes: bytesNeeded, actualBytes: end - begin)
            }
            tensors.append(SafeTensorInfo(name: name, dtype: dtype, shape: entry.shape, dataOffsets: begin ..< end))
        }

        // The byte ranges must tile [0, data size) in offset order.
        tensors.sort { ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound, $0.name) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound, $1.name) }
        var expectedBegin = 0
        for t in tensors {
            let r = t.dataOffsets
            if r.lowerBound < expectedBegin {
                throw .invalidOffsets(tensor: t.name, begin: r.lowerBound, end: r.upperBound,
                                      why: "overlaps the previous tensor, which ends at \(expectedBegin)")
            }
            if r.lowerBound > expectedBegin {
                throw .invalidOffsets(tensor: t.name, begin: r.lowerBound, end: r.upperBound,
                                      why: "leaves a gap after the previous tensor, which ends at \(expectedBegin)")
            }
            expectedBegin = r.upperBound
        }
        let dataSize = bytes.count - dataStart
        guard expectedBegin == dataSize else {
            throw .dataSizeMismatch(tensorBytes: expectedBegin, dataSectionBytes: dataSize)
        }
        self.tensors = tensors
    }

    private static func path(_ codingPath: [CodingKey]) -> String {
        (["$"] + codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }).joined(separator: ".")
    }

    private static func describe(_ context: DecodingError.Context) -> String {
        if let underlying = context.underlyingError { return "\(context.debugDescription) (\(underlying.localizedDescription))" }
        return context.debugDescription
    }
}

/// The header JSON as decoded, before validation.
private struct RawHeader: Decodable {
    struct Entry: Decodable {
        var dtype: String
        var shape: [Int]
        var dataOffsets: [Int]

        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    var metadata: [String: String]?
    var entries: [(String, Entry)] = []

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        for key in container.allKeys {
            if key.stringValue == "__metadata__" {
                metadata = try container.decode([String: String].self, forKey: key)
            } else {
                entries.append((key.stringValue, try container.decode(Entry.self, forKey: key)))
            }
        }
    }
}
