import Foundation

/// Locations of the committed fixtures and the optional real model, found from this file's path.
enum Fixtures {
    /// The package root: three levels above Tests/GGUFTests/Fixtures.swift.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Tests/Fixtures/gguf/<name>`.
    static func gguf(_ name: String) -> URL {
        packageRoot.appendingPathComponent("Tests/Fixtures/gguf").appendingPathComponent(name)
    }

    /// The default model installed by scripts/setup, if present.
    static var smolLM2: URL? {
        let url = packageRoot.appendingPathComponent(".models/SmolLM2-135M-Instruct.Q4_1.gguf")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    static func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: gguf(name)))
    }
}

/// Any JSON value, decoded without losing 64-bit integers.
enum JSONValue: Decodable, Equatable {
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case array([JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else if let v = try? c.decode(Int64.self) { self = .int(v) }
        else if let v = try? c.decode(UInt64.self) { self = .uint(v) }
        else if let v = try? c.decode(Double.self) { self = .double(v) }
        else if let v = try? c.decode(String.self) { self = .string(v) }
        else { self = .array(try c.decode([JSONValue].self)) }
    }

    var doubleValue: Double? {
        switch self {
        case .int(let v): Double(v)
        case .uint(let v): Double(v)
        case .double(let v): v
        default: nil
        }
    }
}

/// The description of a GGUF file that the generator script writes (gguf-py's reading of it).
struct GGUFDescription: Decodable {
    struct Field: Decodable {
        var types: [String]
        var value: JSONValue
    }
    struct Tensor: Decodable {
        var name: String
        var type: String
        var dims: [Int]
        var offset: Int
        var n_bytes: Int
        var f32_bits: [UInt32]?
        var raw_hex: String?
    }
    var version: UInt32
    var alignment: Int
    var data_offset: Int
    var file_size: Int
    var metadata: [String: Field]
    var tensors: [Tensor]
}

/// Bytes of a hex string.
func bytes(hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = hex.utf8.makeIterator()
    func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }
    while let hi = it.next(), let lo = it.next() { out.append(nibble(hi) << 4 | nibble(lo)) }
    return out
}
