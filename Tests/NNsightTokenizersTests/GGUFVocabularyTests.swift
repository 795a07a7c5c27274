import Foundation
import Testing
import NNsightTokenizers

/// Tokenizers built from GGUF metadata give the ids transformers gives for the same GGUF file
/// where transformers' GGUF tokenizer agrees with the original tokenizer (SmolLM2, GPT-2 style);
/// GGUFFamilyTests covers the families where it does not.
@Suite struct GGUFVocabularyTests {
    @Test(arguments: ["smollm2"])
    func idsMatchTransformers(name: String) throws {
        let tokenizer = try Tokenizer(ggufVocabulary: Fixtures.ggufVocabulary(name))
        let expected = try Fixtures.expected(name)
        var mismatches = 0
        for (index, text) in Fixtures.corpus.enumerated() {
            let ids = tokenizer.encode(text).ids
            if ids != expected.ids[index] {
                mismatches += 1
                if mismatches <= 5 { Issue.record("\(name) text \(index) \(text.debugDescription.prefix(100)): \(firstDifference(ids, expected.ids[index]))") }
            }
            let skipped = tokenizer.decode(ids, skipSpecialTokens: true)
            if skipped != (expected.decoded_skip_special[index] ?? text) {
                mismatches += 1
                if mismatches <= 5 { Issue.record("\(name) text \(index): decode \(skipped.debugDescription)") }
            }
        }
        #expect(mismatches == 0)
    }

    @Test func smolLM2SpecialTokens() throws {
        let vocabulary = try Fixtures.ggufVocabulary("smollm2")
        let tokenizer = try Tokenizer(ggufVocabulary: vocabulary)
        #expect(vocabulary.model == "gpt2" && vocabulary.pre == "smollm")
        let ids = tokenizer.encode("<|im_start|>user\nHi<|im_end|>").ids
        #expect(ids.first == tokenizer.tokenToId("<|im_start|>"))
        #expect(ids.last == tokenizer.tokenToId("<|im_end|>"))
        #expect(tokenizer.isSpecial(ids.first!))
        #expect(tokenizer.decode(ids, skipSpecialTokens: true) == "user\nHi")
        #expect(tokenizer.decode(ids) == "<|im_start|>user\nHi<|im_end|>")
    }

    @Test func sentencePieceAddsBOS() throws {
        let vocabulary = try Fixtures.ggufVocabulary("sp-bpe")
        let tokenizer = try Tokenizer(ggufVocabulary: vocabulary)
        let ids = tokenizer.encode("Hello world").ids
        #expect(ids.first == vocabulary.bosTokenId)
        #expect(tokenizer.encode("Hello world", addSpecialTokens: false).ids == Array(ids.dropFirst()))
        var noBOS = vocabulary
        noBOS.addBOS = false
        #expect(try Tokenizer(ggufVocabulary: noBOS).encode("Hello world").ids == Array(ids.dropFirst()))
    }

    /// sp-bpe's goldens are transformers' GGUF tokenizer (Metaspace with prepend_scheme "first");
    /// ours follows Llama 2's tokenizer.json (Prepend + Replace normalizer). The two may differ
    /// only where the text starts with whitespace, is empty or whitespace only, or holds an
    /// added token (after which the original prepends ▁ again); everywhere else the ids agree.
    @Test func sentencePieceDiffersFromTransformersOnlyOnLeadingSpaceAndAddedTokens() throws {
        let vocabulary = try Fixtures.ggufVocabulary("sp-bpe")
        let tokenizer = try Tokenizer(ggufVocabulary: vocabulary)
        let expected = try Fixtures.expected("sp-bpe")
        let addedContents = vocabulary.tokens.enumerated()
            .filter { [3, 4].contains(vocabulary.tokenTypes?[$0.offset] ?? 1) }.map(\.element)
        var agreed = 0, differed = 0
        for (index, text) in Fixtures.corpus.enumerated() {
            if tokenizer.encode(text).ids == expected.ids[index] {
                agreed += 1
                continue
            }
            differed += 1
            let explained = text.first.map { $0.isWhitespace } ?? true
                || addedContents.contains { text.contains($0) }
            #expect(explained, "text \(index) \(text.debugDescription.prefix(80)) differs for another reason")
        }
        #expect(agreed > 1000 && differed > 0, "agreed \(agreed), differed \(differed)")
    }
}
