import Foundation

/// A parsed GGUF file (the format llama.cpp and Ollama use): header, metadata, tensor table,
/// and zero-copy access to the tensor bytes in the memory-mapped file.
///
/// ```swift
/// let file = try GGUFFile(contentsOf: URL(fileURLWithPath: "SmolLM2-135M-Instruct.Q4_1.gguf"))
/// let heads = try file.metadata.int("llama.attention.head_count")
/// let wq = try file.dequantize("blk.0.attn_q.weight")      // [Float], row-major, shape [576, 576]
/// ```
///
/// Layout read (little-endian, versions 2 and 3): magic `GGUF`, UInt32 version, UInt64 tensor
/// count, UInt64 metadata count, the metadata pairs, the tensor table, padding to
/// `general.alignment` (default 32), then the data section that tensor offsets are relative to.
/// Every count, length and offset is checked against the file size before it is used.
///
/// The object is immutable and `Sendable`. It keeps the mapping alive (see `GGUFStorage`).
public final class GGUFFile: Sendable {
    /// The alignment used when `general.alignment` is absent.
    public static let defaultAlignment = 32
    /// The metadata key that overrides the alignment.
    public static let alignmentKey = "general.alignment"

    /// The path the file was read from, or nil for in-memory bytes.
    public let path: String?
    /// The format version (2 or 3).
    public let version: UInt32
    /// The key/value metadata.
    public let metadata: GGUFMetadata
    /// The tensor table in file order.
    public let tensors: [GGUFTensorInfo]
    /// The data alignment in bytes.
    public let alignment: Int
    /// Absolute offset of the data section in the file.
    public let dataOffset: Int
    /// The mapped bytes of the whole file.
    public let storage: GGUFStorage
    private let tensorIndex: [String: Int]

    /// Memory-maps and parses the GGUF file at `url`.
    public convenience init(contentsOf url: URL) throws(GGUFError) {
        let path = url.path
        try self.init(storage: .gguf(mapping: url), path: path)
    }

    /// Parses GGUF bytes held in memory (they are copied once).
    public convenience init(data: Data) throws(GGUFError) {
        try self.init(storage: GGUFStorage(copying: data), path: nil)
    }

    private init(storage: GGUFStorage, path: String?) throws(GGUFError) {
        self.storage = storage
        self.path = path
        let parsed = try Self.parse(storage, file: path)
        version = parsed.version
        metadata = parsed.metadata
        tensors = parsed.tensors
        alignment = parsed.alignment
        dataOffset = parsed.dataOffset
        tensorIndex = parsed.index
    }

    /// The number of bytes in the file.
    public var fileSize: Int { storage.count }

    /// The tensor names in file order.
    public var tensorNames: [String] { tensors.map(\.name) }

    /// The table entry for the tensor `name`.
    public func tensorInfo(_ name: String) throws(GGUFError) -> GGUFTensorInfo {
        guard let i = tensorIndex[name] else { throw GGUFError(.tensorNotFound(name), file: path) }
        return tensors[i]
    }

    /// A zero-copy view of the tensor's stored bytes (quantized blocks stay packed).
    public func tensorData(_ name: String) throws(GGUFError) -> GGUFTensorData {
        let info = try tensorInfo(name)
        return GGUFTensorData(info: info, storage: storage, absoluteOffset: dataOffset + info.offset)
    }

    /// Dequantizes the tensor `name` to Float32 in row-major order (`info.shape`).
    /// Supported types: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K and
    /// Q6_K (`GGMLType.isDequantizable`); the result is bit-exact with
    /// gguf-py's `gguf.quants.dequantize`.
    public func dequantize(_ name: String) throws(GGUFError) -> [Float] {
        let data = try tensorData(name)
        return try data.dequantized()
    }

    // MARK: - Parsing

    private struct Parsed {
        var version: UInt32
        var metadata: GGUFMetadata
        var tensors: [GGUFTensorInfo]
        var alignment: Int
        var dataOffset: Int
        var index: [String: Int]
    }

    private static func parse(_ storage: GGUFStorage, file: String?) throws(GGUFError) -> Parsed {
        do {
            return try parse(storage.slice(offset: 0, length: storage.count), file: file)
        } catch {
            throw GGUFError(error, file: file)
        }
    }

    /// "GGUF" read as a little-endian UInt32.
    static let magic: UInt32 = 0x4655_4747

    private static func parse(_ bytes: UnsafeRawBufferPointer, file: String?) throws(GGUFError.Reason) -> Parsed {
        var cursor = ByteCursor(bytes)
        let magic = try cursor.read(UInt32.self, "magic")
        guard magic == Self.magic else { throw .badMagic(found: magic) }
        let version = try cursor.read(UInt32.self, "version")
        guard version == 2 || version == 3 else { throw .unsupportedVersion(version) }

        let tensorCountOffset = cursor.offset
        let tensorCount = try cursor.read(UInt64.self, "tensor count")
        let kvCountOffset = cursor.offset
        let kvCount = try cursor.read(UInt64.self, "metadata count")
        // A metadata pair takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor entry at
        // least 8 (name length) + 4 (dims) + 4 (type) + 8 (offset).
        guard kvCount <= UInt64(cursor.remaining / 13) else {
            throw .absurdCount(what: "metadata", count: kvCount, offset: kvCountOffset)
        }
        guard tensorCount <= UInt64(cursor.remaining / 24) else {
            throw .absurdCount(what: "tensor", count: tensorCount, offset: tensorCountOffset)
        }

        var keys: [String] = []
        var values: [String: GGUFValue] = [:]
        keys.reserveCapacity(Int(kvCount))
        for i in 0 ..< Int(kvCount) {
            let key = try cursor.readString("key of metadata pair #\(i)")
            let typeOffset = cursor.offset
            let tag = try cursor.read(UInt32.self, "value type of '\(key)'")
            guard let type = GGUFValueType(rawValue: tag) else {
                throw .unknownValueType(tag, key: key, offset: typeOffset)
            }
            let value = try cursor.readValue(type, key: key)
            guard values.updateValue(value, forKey: key) == nil else { throw .duplicateKey(key) }
            keys.append(key)
        }
        let metadata = GGUFMetadata(keys: keys, values: values, file: file)

        var alignment = Self.defaultAlignment
        if let value = values[Self.alignmentKey] {
            guard case .uint32(let a) = value, a > 0, a & (a - 1) == 0 else {
                throw .invalidAlignment(key: Self.alignmentKey, value: "\(value)")
            }
            alignment = Int(a)
        }

        var tensors: [GGUFTensorInfo] = []
        var index: [String: Int] = [:]
        tensors.reserveCapacity(Int(tensorCount))
        for i in 0 ..< Int(tensorCount) {
            let info = try cursor.readTensorInfo(index: i)
            guard index.updateValue(i, forKey: info.name) == nil else { throw .duplicateTensor(info.name) }
            tensors.append(info)
        }

        // The data section starts at the next multiple of the alignment. A file with no
        // tensors may end before that padding.
        cursor.align(to: alignment)
        let dataOffset = cursor.offset
        let dataSize = bytes.count - dataOffset
        for info in tensors {
            guard info.offset % alignment == 0 else {
                throw .misalignedTensor(tensor: info.name, offset: UInt64(info.offset), alignment: alignment)
            }
            guard info.offset <= dataSize, info.byteCount <= dataSize - info.offset else {
                throw .tensorDataPastEnd(
                    tensor: info.name, offset: UInt64(info.offset), byteCount: info.byteCount,
                    dataSectionSize: dataSize)
            }
        }
        return Parsed(
            version: version, metadata: metadata, tensors: tensors, alignment: alignment,
            dataOffset: dataOffset, index: index)
    }
}
