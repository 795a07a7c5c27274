import Foundation
import Testing
import NNsightTokenizers

/// The goldens of scripts/fixtures/gen_gguf_tokenizers.py: the ORIGINAL tokenizer.json's ids (of
/// a trained stand-in configured like each family's released tokenizer) for every text of
/// gguf-corpus.json, and where transformers' GGUF tokenizer gives other ids.
private struct FamilyExpected: Decodable {
    var ids: [[Int]]
    var decoded_skip_special: [String?]
    var transformers_gguf_mismatches: [Int]?
    var without_ignore_merges_mismatches: [Int]?
}

private struct RawVocabulary: Decodable {
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
    var architecture: String?
}

private enum FamilyFixtures {
    static let corpus: [String] = try! JSONDecoder().decode([String].self, from: Fixtures.data("gguf-corpus.json"))

    static func vocabulary(_ family: String) throws -> GGUFVocabulary {
        let raw = try JSONDecoder().decode(RawVocabulary.self, from: Fixtures.data("\(family).gguf-vocab.json"))
        return GGUFVocabulary(
            model: raw.model, pre: raw.pre, tokens: raw.tokens, tokenTypes: raw.token_type, scores: raw.scores,
            merges: raw.merges, bosTokenId: raw.bos_token_id, eosTokenId: raw.eos_token_id,
            unknownTokenId: raw.unknown_token_id, paddingTokenId: raw.padding_token_id, addBOS: raw.add_bos_token,
            addEOS: raw.add_eos_token, addSpacePrefix: raw.add_space_prefix, architecture: raw.architecture)
    }

    static func expected(_ family: String) throws -> FamilyExpected {
        try JSONDecoder().decode(FamilyExpected.self, from: Fixtures.data("\(family).gguf-expected.json"))
    }
}

private let families = ["llama3-gguf", "llama2-gguf", "phi3-gguf", "gptneox-gguf", "falcon-gguf"]

@Suite("tokenizers from GGUF vocabularies give the original tokenizer's ids")
struct GGUFFamilyTests {
    @Test("every corpus text: ids and decode equal the original tokenizer.json's", arguments: families)
    func idsMatchOriginal(family: String) throws {
        let tokenizer = try Tokenizer(ggufVocabulary: FamilyFixtures.vocabulary(family))
        let expected = try FamilyFixtures.expected(family)
        let corpus = FamilyFixtures.corpus
        try #require(expected.ids.count == corpus.count)
        var mismatches = 0
        for (index, text) in corpus.enumerated() {
            let ids = tokenizer.encode(text).ids
            if ids != expected.ids[index] {
                mismatches += 1
                if mismatches <= 5 { Issue.record("\(family) text \(index) \(text.debugDescription.prefix(80)): \(firstDifference(ids, expected.ids[index]))") }
            }
            let decoded = tokenizer.decode(ids, skipSpecialTokens: true)
            if decoded != (expected.decoded_skip_special[index] ?? text) {
                mismatches += 1
                if mismatches <= 5 { Issue.record("\(family) text \(index): decode \(decoded.debugDescription.prefix(80))") }
            }
        }
        #expect(mismatches == 0)
    }

    @Test("the texts where transformers' GGUF tokenizer is wrong are among those checked", arguments: families)
    func corpusCoversTheKnownDifferences(family: String) throws {
        let expected = try FamilyFixtures.expected(family)
        let tokenizer = try Tokenizer(ggufVocabulary: FamilyFixtures.vocabulary(family))
        // Each index is a text on which transformers' conversion gives other ids than the original:
        // this library must give the original's there too (and the list must not be empty, or
        // the fixture would not exercise the difference). gptneox: transformers cannot load it.
        let differing = (expected.transformers_gguf_mismatches ?? []) + (expected.without_ignore_merges_mismatches ?? [])
        if family != "gptneox-gguf" { #expect(!differing.isEmpty) }
        for index in differing {
            #expect(tokenizer.encode(FamilyFixtures.corpus[index]).ids == expected.ids[index], "text \(index)")
        }
    }

    @Test("GPT-NeoX: whitespace runs are the added tokens, as in the original")
    func gptNeoXWhitespaceRuns() throws {
        let vocabulary = try FamilyFixtures.vocabulary("gptneox-gguf")
        let tokenizer = try Tokenizer(ggufVocabulary: vocabulary)
        let twoSpaces = try #require(vocabulary.tokens.firstIndex(of: "  "))
        #expect(vocabulary.tokenTypes?[twoSpaces] == GGUFVocabulary.TokenType.userDefined.rawValue)
        let ids = tokenizer.encode("  Hello").ids
        #expect(ids.first == twoSpaces)
        #expect(tokenizer.decode(ids) == "  Hello")
    }

    @Test("Llama 3: ignore_merges finds whole-word tokens the merges never build")
    func llama3IgnoreMerges() throws {
        let vocabulary = try FamilyFixtures.vocabulary("llama3-gguf")
        let tokenizer = try Tokenizer(ggufVocabulary: vocabulary)
        let word = try #require(tokenizer.tokenToId("ĠNguyá»ħn"))  // " Nguyễn", byte-level spelled
        #expect(tokenizer.encode(" Nguyễn", addSpecialTokens: false).ids == [word])
    }

    @Test("SentencePiece (Llama 2): leading spaces and whitespace-only texts keep every space")
    func sentencePieceLeadingSpace() throws {
        let vocabulary = try FamilyFixtures.vocabulary("llama2-gguf")
        let tokenizer = try Tokenizer(ggufVocabulary: vocabulary)
        // Prepend("▁") then Replace(" ", "▁"): " Hello" is "▁▁Hello", so it differs from "Hello".
        let plain = tokenizer.encode("Hello", addSpecialTokens: false).ids
        let leading = tokenizer.encode(" Hello", addSpecialTokens: false).ids
        #expect(leading != plain)
        #expect(tokenizer.decode(leading) == " Hello")
        #expect(tokenizer.decode(tokenizer.encode("  ", addSpecialTokens: false).ids) == "  ")
    }
}
