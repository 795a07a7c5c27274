import Foundation
import Testing
@testable import NNsightTorch

/// Every test calls this first: one intra-op thread (DESIGN.md: 2 shared cores).
func torchSetUp() throws {
    try Torch.setNumThreads(1)
}

/// A JSON value as the fixture generator (scripts/fixtures/gen_torch.py) writes it; integers stay exact.
enum JSONValue: Decodable {
    case null, bool(Bool), int(Int64), double(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else if let v = try? c.decode(Int64.self) { self = .int(v) }
        else if let v = try? c.decode(Double.self) { self = .double(v) }
        else if let v = try? c.decode(String.self) { self = .string(v) }
        else if let v = try? c.decode([JSONValue].self) { self = .array(v) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    subscript(_ key: String) -> JSONValue {
        if case .object(let o) = self, let v = o[key] { return v }
        Issue.record("fixture key \(key) missing")
        return .null
    }

    var array: [JSONValue] { if case .array(let a) = self { return a }; return [] }
    var object: [String: JSONValue] { if case .object(let o) = self { return o }; return [:] }
    var string: String { if case .string(let s) = self { return s }; return "" }

    var double: Double {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        case .bool(let b): b ? 1 : 0
        case .string("nan"): .nan
        case .string("inf"): .infinity
        case .string("-inf"): -.infinity
        default: .nan
        }
    }

    var int: Int64 {
        switch self {
        case .int(let i): i
        case .double(let d): Int64(d)
        case .bool(let b): b ? 1 : 0
        default: 0
        }
    }

    var ints: [Int] { array.map { Int($0.int) } }
}

/// A tensor in a fixture: shape, dtype and row-major values.
struct FixtureTensor {
    let shape: [Int]
    let dtypeName: String
    let values: [JSONValue]

    init(_ json: JSONValue) {
        shape = json["shape"].ints
        dtypeName = json["dtype"].string
        values = json["values"].array
    }

    var dtype: DType {
        switch dtypeName {
        case "float32": .float32
        case "float64": .float64
        case "int64": .int64
        case "int32": .int32
        case "int16": .int16
        case "int8": .int8
        case "uint8": .uint8
        case "bool": .bool
        case "bfloat16": .bfloat16
        case "float16": .float16
        default: .float32
        }
    }

    var doubles: [Double] { values.map(\.double) }
    var int64s: [Int64] { values.map(\.int) }

    /// The same tensor in libtorch.
    func tensor() throws -> Tensor {
        switch dtype {
        case .float32: try Tensor(doubles.map { Float($0) }, shape: shape)
        case .float64: try Tensor(doubles, shape: shape)
        case .int64: try Tensor(int64s, shape: shape)
        case .int32: try Tensor(int64s.map { Int32($0) }, shape: shape)
        case .int16: try Tensor(int64s.map { Int16($0) }, shape: shape)
        case .int8: try Tensor(int64s.map { Int8($0) }, shape: shape)
        case .uint8: try Tensor(int64s.map { UInt8($0) }, shape: shape)
        case .bool: try Tensor(int64s.map { $0 != 0 }, shape: shape)
        case .float16, .bfloat16: try Tensor(doubles, shape: shape).to(dtype)
        }
    }
}

/// One fixture file of Tests/Fixtures/torch.
struct Fixture {
    let cases: [String: JSONValue]

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tests/Fixtures/torch")

    nonisolated(unsafe) private static var cache: [String: Fixture] = [:]
    private static let lock = NSLock()

    static func load(_ name: String) throws -> Fixture {
        lock.lock(); defer { lock.unlock() }
        if let cached = cache[name] { return cached }
        let data = try Data(contentsOf: directory.appendingPathComponent("\(name).json"))
        let root = try JSONDecoder().decode(JSONValue.self, from: data)
        let fixture = Fixture(cases: root["cases"].object)
        cache[name] = fixture
        return fixture
    }

    subscript(_ name: String) -> FixtureCase {
        guard let json = cases[name] else {
            Issue.record("fixture case \(name) missing")
            return FixtureCase(json: .object([:]))
        }
        return FixtureCase(json: json)
    }
}

struct FixtureCase {
    let json: JSONValue

    /// An input tensor, built in libtorch from the stored values.
    func input(_ name: String) throws -> Tensor { try FixtureTensor(json["inputs"][name]).tensor() }
    /// An expected output.
    func output(_ name: String) -> FixtureTensor { FixtureTensor(json["outputs"][name]) }
    func param(_ name: String) -> JSONValue { json["params"][name] }
    var outputNames: [String] { json["outputs"].object.keys.sorted() }
}

/// Checks `actual` against a PyTorch golden: same shape and dtype; integers and bools exactly,
/// floats within `rtol`·|expected| + `atol` (nan matches nan, infinities match exactly).
func expectMatches(_ actual: Tensor, _ expected: FixtureTensor, rtol: Double = 1e-6, atol: Double = 1e-6,
                   _ label: String = "", sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(actual.shape == expected.shape, "\(label): shape", sourceLocation: sourceLocation)
    #expect(actual.dtype == expected.dtype, "\(label): dtype \(actual.dtype) vs \(expected.dtypeName)",
            sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    if expected.dtype.isFloatingPoint {
        let got = try actual.toArray(Double.self)
        let want = expected.doubles
        var bad: [String] = []
        for (i, (g, w)) in zip(got, want).enumerated() {
            let ok: Bool
            if w.isNaN { ok = g.isNaN }
            else if w.isInfinite { ok = g == w }
            else { ok = Swift.abs(g - w) <= atol + rtol * Swift.abs(w) }
            if !ok { bad.append("[\(i)] \(g) != \(w)") }
        }
        #expect(bad.isEmpty, "\(label): \(bad.prefix(5).joined(separator: ", "))", sourceLocation: sourceLocation)
    } else {
        let got = try actual.toArray(Int64.self)
        #expect(got == expected.int64s, "\(label)", sourceLocation: sourceLocation)
    }
}
