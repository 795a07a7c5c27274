import Foundation

/// Locations of the committed fixtures, found from this file's path.
enum Fixtures {
    /// The package root: three levels above Tests/SafeTensorsTests/Fixtures.swift.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Tests/Fixtures/safetensors/<name>`.
    static func url(_ name: String) -> URL {
        packageRoot.appendingPathComponent("Tests/Fixtures/safetensors").appendingPathComponent(name)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: url(name)))
    }

    /// A fresh temporary directory for files a test writes.
    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// The expected tensors the generator script wrote (read back with torch).
struct DTypesFixture: Decodable {
    struct Tensor: Decodable {
        var dtype: String
        var shape: [Int]
        var hex: String
        var values: [Number]?
    }
    /// A JSON number or bool, keeping 64-bit integers exact.
    enum Number: Decodable, Equatable {
        case bool(Bool), int(Int64), uint(UInt64), double(Double)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let v = try? c.decode(Bool.self) { self = .bool(v) }
            else if let v = try? c.decode(Int64.self) { self = .int(v) }
            else if let v = try? c.decode(UInt64.self) { self = .uint(v) }
            else { self = .double(try c.decode(Double.self)) }
        }
    }
    var metadata: [String: String]
    var tensors: [String: Tensor]
    var header_length: Int
    var file_size: Int
}

struct ShardedFixture: Decodable {
    struct Tensor: Decodable {
        var file: String
        var dtype: String
        var shape: [Int]
        var hex: String
    }
    var total_size: Int
    var tensors: [String: Tensor]
}

/// Bytes of a hex string.
func bytes(hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = hex.utf8.makeIterator()
    func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }
    while let hi = it.next(), let lo = it.next() { out.append(nibble(hi) << 4 | nibble(lo)) }
    return out
}

/// A safetensors file assembled by hand from a header string and data bytes.
func safetensorsBytes(header: String, data: [UInt8], declaredLength: UInt64? = nil) -> Data {
    var out = Data()
    let h = Data(header.utf8)
    withUnsafeBytes(of: (declaredLength ?? UInt64(h.count)).littleEndian) { out.append(contentsOf: $0) }
    out.append(h)
    out.append(contentsOf: data)
    return out
}
