import Foundation
import Testing
import NNsightTokenizers

/// Malformed or unsupported files throw a `TokenizerError` naming the component; nothing crashes.
@Suite struct ErrorTests {
    /// A small valid tokenizer.json, to be broken one field at a time.
    static func validJSON(
        model: String = #"{"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}"#,
        preTokenizer: String = #"{"type": "ByteLevel", "add_prefix_space": false}"#,
        normalizer: String = "null", decoder: String = #"{"type": "ByteLevel"}"#
    ) -> String {
        #"{"version": "1.0", "added_tokens": [], "normalizer": \#(normalizer), "pre_tokenizer": \#(preTokenizer), "#
            + #""post_processor": null, "decoder": \#(decoder), "model": \#(model)}"#
    }

    static func error(_ json: String) -> TokenizerError? {
        do {
            _ = try Tokenizer(json: json)
            return nil
        } catch {
            return error
        }
    }

    @Test func validFileLoads() throws {
        let tokenizer = try Tokenizer(json: Self.validJSON())
        #expect(tokenizer.encode("ab").ids == [2])
        #expect(tokenizer.encode("ba").ids == [1, 0])
    }

    @Test func badJSON() {
        guard case .invalidJSON? = Self.error(#"{"model": {"type": "BPE", "vocab": {"#) else {
            Issue.record("expected invalidJSON")
            return
        }
        #expect(Self.error("[1, 2]") == .malformed(path: "$", reason: "expected a JSON object"))
    }

    @Test func missingModel() {
        let json = #"{"version": "1.0", "pre_tokenizer": null}"#
        #expect(Self.error(json) == .malformed(path: "$.model", reason: "missing field"))
    }

    @Test func unsupportedComponents() {
        let unicodeScripts = Self.error(Self.validJSON(preTokenizer: #"{"type": "UnicodeScripts"}"#))
        #expect(unicodeScripts == .unsupported(component: "pre_tokenizer", type: "UnicodeScripts"))
        #expect(unicodeScripts?.description == #"unsupported pre_tokenizer type "UnicodeScripts""#)
        #expect(Self.error(Self.validJSON(model: #"{"type": "Unigram", "vocab": []}"#)) == .unsupported(component: "model", type: "Unigram"))
        #expect(Self.error(Self.validJSON(normalizer: #"{"type": "Precompiled", "precompiled_charsmap": ""}"#))
            == .unsupported(component: "normalizer", type: "Precompiled"))
        #expect(Self.error(Self.validJSON(decoder: #"{"type": "CTC"}"#)) == .unsupported(component: "decoder", type: "CTC"))
        let nested = Self.validJSON(preTokenizer: #"{"type": "Sequence", "pretokenizers": [{"type": "Digits"}, {"type": "Bogus"}]}"#)
        #expect(Self.error(nested) == .unsupported(component: "pre_tokenizer", type: "Bogus"))
    }

    @Test func mergesReferringToUnknownTokens() {
        let json = Self.validJSON(model: #"{"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", "a c"]}"#)
        #expect(Self.error(json) == .malformed(path: "$.model.merges[1]", reason: #"merge token "c" is not in the vocabulary"#))
        let noResult = Self.validJSON(model: #"{"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", "b"]]}"#)
        #expect(Self.error(noResult) == .malformed(path: "$.model.merges[0]", reason: #"merged token "ab" is not in the vocabulary"#))
        let badLine = Self.validJSON(model: #"{"type": "BPE", "vocab": {"a": 0}, "merges": ["a"]}"#)
        #expect(Self.error(badLine) == .malformed(path: "$.model.merges[0]", reason: #"expected "left right", got "a""#))
    }

    @Test func wrongTypesAndValues() {
        #expect(Self.error(Self.validJSON(model: #"{"type": "BPE", "vocab": {"a": "zero"}, "merges": []}"#))
            == .malformed(path: "$.model.vocab.a", reason: "expected a token id"))
        #expect(Self.error(Self.validJSON(model: #"{"type": "BPE", "vocab": {"a": 0}, "merges": [], "unk_token": "<unk>"}"#))
            == .malformed(path: "$.model.unk_token", reason: #"unknown token "<unk>" is not in the vocabulary"#))
        #expect(Self.error(Self.validJSON(preTokenizer: #"{"type": "Split", "pattern": {"Regex": "("}, "behavior": "Isolated"}"#)) != nil)
        #expect(Self.error(Self.validJSON(preTokenizer: #"{"type": "Split", "pattern": {"String": " "}, "behavior": "Sideways"}"#))
            == .malformed(path: "$.pre_tokenizer.behavior", reason: #"unknown behavior "Sideways""#))
        #expect(Self.error(Self.validJSON(preTokenizer: #"{"add_prefix_space": false}"#))
            == .malformed(path: "$.pre_tokenizer", reason: #"pre_tokenizer has no "type""#))
    }

    @Test func unreadableFile() {
        #expect(throws: TokenizerError.self) { try Tokenizer(contentsOf: URL(fileURLWithPath: "/nonexistent/tokenizer.json")) }
    }

    @Test func badGGUFVocabularies() {
        func error(_ vocabulary: GGUFVocabulary) -> TokenizerError? {
            do { _ = try Tokenizer(ggufVocabulary: vocabulary); return nil } catch { return error }
        }
        #expect(error(GGUFVocabulary(model: "rwkv", tokens: ["a"])) == .unsupported(component: "tokenizer.ggml.model", type: "rwkv"))
        #expect(error(GGUFVocabulary(model: "gpt2", tokens: [])) == .malformed(path: "tokenizer.ggml.tokens", reason: "empty vocabulary"))
        #expect(error(GGUFVocabulary(model: "gpt2", tokens: ["a"])) == .malformed(path: "tokenizer.ggml.merges", reason: "a gpt2 vocabulary needs merges"))
        #expect(error(GGUFVocabulary(model: "gpt2", tokens: ["a", "b"], merges: ["a b"]))
            == .malformed(path: "tokenizer.ggml.merges[0]", reason: #"merged token "ab" is not in the vocabulary"#))
        #expect(error(GGUFVocabulary(model: "llama", tokens: ["a"], scores: nil)) != nil)
        #expect(error(GGUFVocabulary(model: "gpt2", tokens: ["a"], merges: [], bosTokenId: 5))
            == .malformed(path: "tokenizer.ggml.bos_token_id", reason: "id 5 is outside the vocabulary of 1"))
        #expect(error(GGUFVocabulary(model: "gpt2", tokens: ["a"], tokenTypes: [1, 1], merges: [])) != nil)
    }
}
