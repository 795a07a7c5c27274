import Foundation
import NNsightTorch

/// Reads the goldens that scripts/fixtures/gen_models.py (and gen_model_reprs.py) wrote with
/// transformers: Tests/Fixtures/models/expected.json, smollm2/expected.json, reprs.json.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/models")
    /// The default model, installed by scripts/setup.
    static let smolLM2Path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".models/SmolLM2-135M-Instruct.Q4_1.gguf").path

    static let tinyModels = ["tiny-gpt2", "tiny-llama", "tiny-llama3", "tiny-qwen2", "tiny-mistral", "tiny-gpt-neox", "tiny-gemma2", "tiny-gemma", "tiny-qwen3", "tiny-olmo2", "tiny-phi3", "tiny-mixtral", "tiny-gemma3", "tiny-qwen3-moe",
                             "tiny-gptj", "tiny-opt", "tiny-opt-350m"]

    struct StoredArray: Decodable, Sendable {
        let dtype: String
        let file: String
        let shape: [Int]

        /// The little-endian float32 values as a tensor of `shape`.
        func tensor(relativeTo folder: URL = Fixtures.root) throws -> Tensor {
            let data = try Data(contentsOf: folder.appendingPathComponent(file))
            let values = data.withUnsafeBytes { raw in
                (0..<(data.count / 4)).map {
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
                }
            }
            return try Tensor(values, shape: shape)
        }
    }

    struct Single: Decodable, Sendable {
        let prompt: String
        let input_ids: [Int]
        let logits: StoredArray
        let greedy_new_ids: [Int]
    }

    struct Batch: Decodable, Sendable {
        let prompts: [String]
        let input_ids: [[Int]]
        let attention_mask: [[Int]]
        let position_ids: [[Int]]
        let last_logits: StoredArray
        let greedy_new_ids: [[Int]]
        let pad_token_id: Int
    }

    struct Model: Decodable, Sendable {
        let folder: String
        let model_class: String
        let config: [String: JSONValue]
        let parameter_count: Int
        let prompts: [String]
        let single: [Single]
        let batch: Batch
        let state_dict_keys: [String]
    }

    struct Expected: Decodable, Sendable {
        let models: [String: Model]
    }

    struct SmolPrompt: Decodable, Sendable {
        let prompt: String
        let input_ids: [Int]
        let last_logits: StoredArray
        let greedy_new_ids: [Int]
        let greedy_new_ids_until_eos: [Int]
        let greedy_text: String
    }

    struct Smol: Decodable, Sendable {
        let prompts: [SmolPrompt]
    }

    struct Reprs: Decodable, Sendable {
        let reprs: [String: String]
    }

    /// A JSON value of a config: scalars, arrays (`layer_types`), and objects of scalars (`rope_parameters`).
    enum JSONValue: Decodable, Equatable, Sendable {
        case number(Double), string(String), bool(Bool), null, array([JSONValue]), object([String: JSONValue]), other

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null }
            else if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let n = try? c.decode(Double.self) { self = .number(n) }
            else if let s = try? c.decode(String.self) { self = .string(s) }
            else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
            else if let o = try? c.decode([String: JSONValue].self) { self = .object(o) }
            else { self = .other }
        }

        var int: Int? { if case .number(let n) = self { Int(n) } else { nil } }
        var double: Double? { if case .number(let n) = self { n } else { nil } }
        var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
        var string: String? { if case .string(let s) = self { s } else { nil } }
        var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
        subscript(key: String) -> JSONValue? { if case .object(let o) = self { o[key] } else { nil } }
    }

    /// expected.json (committed; failing to read it is a broken checkout).
    static let expected: Expected = {
        try! JSONDecoder().decode(Expected.self, from: Data(contentsOf: root.appendingPathComponent("expected.json")))
    }()

    static func model(_ name: String) -> Model { expected.models[name]! }

    static func smol() throws -> Smol {
        try JSONDecoder().decode(Smol.self, from: Data(contentsOf: root.appendingPathComponent("smollm2/expected.json")))
    }

    static func reprs() throws -> Reprs {
        try JSONDecoder().decode(Reprs.self, from: Data(contentsOf: root.appendingPathComponent("reprs.json")))
    }

    static func path(_ name: String) -> String { root.appendingPathComponent(name).path }
}

/// The largest absolute difference between two tensors of the same shape, in float64.
func maxAbsDifference(_ a: Tensor, _ b: Tensor) throws -> Double {
    precondition(a.shape == b.shape, "shapes differ: \(a.shape) vs \(b.shape)")
    return try (a.to(.float64) - b.to(.float64)).abs().max().item(Double.self)
}

/// `[[Int]]` as an int64 tensor `[rows, columns]`.
func idsTensor(_ rows: [[Int]]) throws -> Tensor {
    try Tensor(rows.flatMap { $0 }, shape: [rows.count, rows.first?.count ?? 0])
}

/// The rows of a 2-D int64 tensor.
func rows(_ tensor: Tensor) throws -> [[Int]] {
    let columns = try tensor.size(1)
    let flat = try tensor.contiguous().toArray(Int.self)
    return stride(from: 0, to: flat.count, by: max(columns, 1)).map { Array(flat[$0..<($0 + columns)]) }
}

/// The last `count` columns of each row.
func newTokens(_ sequences: Tensor, count: Int) throws -> [[Int]] {
    try rows(sequences).map { Array($0.suffix(count)) }
}
