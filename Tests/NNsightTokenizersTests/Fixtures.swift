import Foundation
import NNsightTokenizers

/// The fixtures written by scripts/fixtures/gen_tokenizers.py from Python `tokenizers`/`transformers`.
enum Fixtures {
    static let directory: URL = {
        var url = URL(fileURLWithPath: #filePath)
        // Tests/TokenizersTests/Fixtures.swift → package root.
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Tests/Fixtures/tokenizers")
    }()

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    static func data(_ name: String) throws -> Data { try Data(contentsOf: url(name)) }

    static let corpus: [String] = {
        // Decoded with JSONSerialization-free Codable so strings keep every scalar (NUL included).
        try! JSONDecoder().decode([String].self, from: data("corpus.json"))
    }()

    static func tokenizer(_ name: String) throws -> Tokenizer {
        try Tokenizer(contentsOf: url("\(name).tokenizer.json"))
    }

    static func expected(_ name: String) throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: data("\(name).expected.json"))
    }

    static func ggufVocabulary(_ name: String) throws -> GGUFVocabulary {
        let raw = try JSONDecoder().decode(RawGGUFVocabulary.self, from: data("\(name).gguf-vocab.json"))
        return GGUFVocabulary(
            model: raw.model, pre: raw.pre, tokens: raw.tokens, tokenTypes: raw.token_type, scores: raw.scores,
            merges: raw.merges, bosTokenId: raw.bos_token_id, eosTokenId: raw.eos_token_id,
            unknownTokenId: raw.unknown_token_id, paddingTokenId: raw.padding_token_id, addBOS: raw.add_bos_token,
            addEOS: raw.add_eos_token, addSpacePrefix: raw.add_space_prefix)
    }
}

struct Expected: Decodable {
    struct Batch: Decodable {
        var padding_side: String
        var max_length: Int?
        var pad_id: Int
        var ids: [[Int]]
        var attention_mask: [[Int]]
    }
    var ids: [[Int]]
    var ids_without_special: [[Int]?]
    var decoded: [String]
    var decoded_skip_special: [String?]
    var tokens_first_50: [[String]]
    var batch_texts: [String]
    var batches: [Batch]
}

private struct RawGGUFVocabulary: Decodable {
    var model: String
    var pre: String?
    var tokens: [String]
    var token_type: [Int]?
    var scores: [Float]?
    var merges: [String]?
    var bos_token_id: Int?
    var eos_token_id: Int?
    var unknown_token_id: Int?
    var padding_token_id: Int?
    var add_bos_token: Bool?
    var add_eos_token: Bool?
    var add_space_prefix: Bool?
}

/// A short, printable description of where two id lists first differ.
func firstDifference(_ a: [Int], _ b: [Int]) -> String {
    let index = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
    return "at \(index): swift \(Array(a[index...].prefix(6))) python \(Array(b[index...].prefix(6))) (lengths \(a.count), \(b.count))"
}
