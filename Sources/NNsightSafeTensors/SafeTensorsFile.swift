import Foundation

/// A safetensors file, memory-mapped and validated, handing out zero-copy tensor views.
///
/// ```swift
/// let file = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: "model.safetensors"))
/// let wte = try file.tensor("transformer.wte.weight")   // dtype, shape, bytes into the mapping
/// print(file.metadata["format"] ?? "")                  // "__metadata__" entries
/// ```
///
/// The object is immutable and `Sendable`; it and every `SafeTensor` it returns keep the
/// mapping alive (see `SafeTensor` for the lifetime rules).
public final class SafeTensorsFile: Sendable {
    /// The path the file was read from, or nil for in-memory bytes.
    public let path: String?
    /// The tensor entries in data order.
    public let tensors: [SafeTensorInfo]
    /// The `__metadata__` string map (empty if absent).
    public let metadata: [String: String]
    /// Absolute offset of the data section (8 + header length).
    public let dataOffset: Int
    /// The mapped bytes of the whole file.
    public let storage: SafeTensorsStorage
    private let index: [String: Int]

    /// Memory-maps and validates the safetensors file at `url`.
    public convenience init(contentsOf url: URL) throws(SafeTensorsError) {
        try self.init(storage: .safeTensors(mapping: url), path: url.path)
    }

    /// Validates safetensors bytes held in memory (they are copied once).
    public convenience init(data: Data) throws(SafeTensorsError) {
        try self.init(storage: SafeTensorsStorage(copying: data), path: nil)
    }

    private init(storage: SafeTensorsStorage, path: String?) throws(SafeTensorsError) {
        let header = try Self.parse(storage, path: path)
        self.storage = storage
        self.path = path
        tensors = header.tensors
        metadata = header.metadata
        dataOffset = header.dataStart
        var index: [String: Int] = [:]
        for (i, t) in header.tensors.enumerated() { index[t.name] = i }
        self.index = index
    }

    private static func parse(_ storage: SafeTensorsStorage, path: String?) throws(SafeTensorsError) -> SafeTensorsHeader {
        do {
            return try SafeTensorsHeader(parsing: storage.slice(offset: 0, length: storage.count))
        } catch {
            throw SafeTensorsError(error, file: path)
        }
    }

    /// The tensor names in data order.
    public var tensorNames: [String] { tensors.map(\.name) }

    /// Whether the file has a tensor called `name`.
    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// The header entry of tensor `name`.
    public func info(_ name: String) throws(SafeTensorsError) -> SafeTensorInfo {
        guard let i = index[name] else { throw SafeTensorsError(.tensorNotFound(name), file: path) }
        return tensors[i]
    }

    /// A zero-copy view of tensor `name`.
    public func tensor(_ name: String) throws(SafeTensorsError) -> SafeTensor {
        let info = try info(name)
        return SafeTensor(info: info, storage: storage, absoluteOffset: dataOffset + info.dataOffsets.lowerBound)
    }

    /// Views of every tensor, by name.
    public func allTensors() -> [String: SafeTensor] {
        var result: [String: SafeTensor] = [:]
        for info in tensors {
            result[info.name] = SafeTensor(info: info, storage: storage, absoluteOffset: dataOffset + info.dataOffsets.lowerBound)
        }
        return result
    }
}
