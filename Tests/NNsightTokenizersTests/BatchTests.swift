import Foundation
import Testing
import NNsightTokenizers

/// Batch encoding with padding (left or right), attention masks and truncation, as Python's
/// `enable_padding` / `enable_truncation` + `encode_batch` produce them.
@Suite struct BatchTests {
    @Test(arguments: ParityTests.names)
    func paddingAndTruncationMatchPython(name: String) throws {
        let tokenizer = try Fixtures.tokenizer(name)
        let expected = try Fixtures.expected(name)
        #expect(expected.batches.count == 4)
        for batch in expected.batches {
            let direction: Encoding.Direction = batch.padding_side == "left" ? .left : .right
            let encodings = tokenizer.encodeBatch(
                expected.batch_texts,
                padding: PaddingOptions(direction: direction, padId: batch.pad_id),
                truncation: batch.max_length.map { TruncationOptions(maxLength: $0, direction: direction) })
            #expect(encodings.map(\.ids) == batch.ids, "\(batch.padding_side) max_length \(batch.max_length ?? -1)")
            #expect(encodings.map(\.attentionMask) == batch.attention_mask)
        }
    }

    @Test func fixedLengthAndMultiple() throws {
        let tokenizer = try Fixtures.tokenizer("smollm2")
        let pad = tokenizer.tokenToId("<|im_end|>")!
        let fixed = tokenizer.encodeBatch(["a b c", "hello"], padding: PaddingOptions(length: .fixed(8), direction: .left, padId: pad))
        #expect(fixed.allSatisfy { $0.count == 8 })
        #expect(fixed[1].attentionMask.prefix(7).allSatisfy { $0 == 0 } && fixed[1].attentionMask.last == 1)
        #expect(fixed[1].ids.last == tokenizer.encode("hello").ids.last)
        let multiple = tokenizer.encodeBatch(["a b c d e"], padding: PaddingOptions(padId: pad, padToMultipleOf: 4))
        #expect(multiple[0].count == 8)
        #expect(multiple[0].ids.suffix(3) == [pad, pad, pad])
    }

    @Test func truncationKeepsRoomForSpecialTokens() throws {
        let tokenizer = try Fixtures.tokenizer("llama3-bpe")
        let bos = tokenizer.tokenToId("<|begin_of_text|>")!
        let full = tokenizer.encode("one two three four five six seven").ids
        let right = tokenizer.encode("one two three four five six seven", truncation: TruncationOptions(maxLength: 4))
        #expect(right.ids == Array(full.prefix(4)))
        let left = tokenizer.encode("one two three four five six seven", truncation: TruncationOptions(maxLength: 4, direction: .left))
        #expect(left.ids == [bos] + Array(full.suffix(3)))
        #expect(left.specialTokensMask == [1, 0, 0, 0])
    }
}
