import Foundation

/// Builds a `.safetensors` file from raw tensor bytes.
///
/// ```swift
/// var writer = SafeTensorsWriter(metadata: ["format": "pt"])
/// try writer.add("w", dtype: .float32, shape: [2, 3], bytes: weightBytes)
/// try writer.write(to: URL(fileURLWithPath: "out.safetensors"))
/// ```
///
/// Layout matches the reference implementation byte for byte: tensors ordered by dtype, widest
/// first, then name (so every tensor is naturally aligned), compact JSON with `__metadata__`
/// first (its keys sorted), the header padded with spaces to a multiple of 8 bytes.
public struct SafeTensorsWriter: Sendable {
    /// One tensor to write.
    public struct Entry: Sendable {
        public var name: String
        public var dtype: SafeTensorsDType
        public var shape: [Int]
        public var bytes: Data
    }

    /// The `__metadata__` string map (omitted from the file when empty).
    public var metadata: [String: String]
    /// The tensors added so far, in the order added.
    public private(set) var entries: [Entry] = []

    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// Adds a tensor; `bytes` holds its little-endian elements in row-major order and must be
    /// exactly `shape.product × dtype.byteSize` long.
    public mutating func add(_ name: String, dtype: SafeTensorsDType, shape: [Int], bytes: Data) throws(SafeTensorsError) {
        guard !name.isEmpty, name != "__metadata__" else {
            throw SafeTensorsError(.invalidTensor(name: name, why: "reserved or empty name"))
        }
        guard !entries.contains(where: { $0.name == name }) else {
            throw SafeTensorsError(.invalidTensor(name: name, why: "added twice"))
        }
        var elements = 1
        for d in shape {
            let (p, overflow) = elements.multipliedReportingOverflow(by: d)
            guard d >= 0, !overflow else { throw SafeTensorsError(.invalidTensor(name: name, why: "invalid shape \(shape)")) }
            elements = p
        }
        guard elements * dtype.byteSize == bytes.count else {
            throw SafeTensorsError(.invalidTensor(
                name: name, why: "\(bytes.count) bytes given, \(dtype) \(shape) needs \(elements * dtype.byteSize)"))
        }
        entries.append(Entry(name: name, dtype: dtype, shape: shape, bytes: bytes))
    }

    /// Adds a copy of a tensor read from another file (its bytes are not copied until written).
    public mutating func add(_ tensor: SafeTensor, as name: String? = nil) throws(SafeTensorsError) {
        try add(name ?? tensor.name, dtype: tensor.dtype, shape: tensor.shape, bytes: tensor.data)
    }

    /// The tensors in file order: dtypes in reverse declaration order (widest first), then name,
    /// as the reference implementation sorts them.
    private var ordered: [Entry] {
        entries.sorted { ($1.dtype.rank, $0.name) < ($0.dtype.rank, $1.name) }
    }

    /// The 8-byte length prefix plus the padded JSON header.
    public func headerBytes() -> Data {
        var json = "{"
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(Self.quote($0)):\(Self.quote(metadata[$0]!))" }
            fields.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for e in ordered {
            let end = offset + e.bytes.count
            let shape = e.shape.map(String.init).joined(separator: ",")
            fields.append("\(Self.quote(e.name)):{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        json += fields.joined(separator: ",") + "}"
        var header = Data(json.utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }
        var result = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { result.append(contentsOf: $0) }
        result.append(header)
        return result
    }

    /// The whole file in memory.
    public func serialized() -> Data {
        var result = headerBytes()
        for e in ordered { result.append(e.bytes) }
        return result
    }

    /// Writes the file to `url`, streaming each tensor's bytes (replaces an existing file).
    public func write(to url: URL) throws(SafeTensorsError) {
        do {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw SafeTensorsError(.cannotOpen(reason: "cannot create file"), file: url.path)
            }
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.write(contentsOf: headerBytes())
            for e in ordered where !e.bytes.isEmpty { try handle.write(contentsOf: e.bytes) }
        } catch let error as SafeTensorsError {
            throw error
        } catch {
            throw SafeTensorsError(.cannotOpen(reason: "write failed: \(error.localizedDescription)"), file: url.path)
        }
    }

    /// A JSON string literal.
    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
