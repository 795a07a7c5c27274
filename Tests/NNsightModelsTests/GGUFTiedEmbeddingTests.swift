import Foundation
import NNsightGGUF
import NNsightNN
import NNsightTorch
import Testing
@testable import NNsightModels

/// A GGUF load on the CPU dequantizes a tied head's embedding straight into the transposed layout
/// the CPU holds it in (`packLinearWeights(packingShared: false)`), instead of in both layouts.
@Suite struct GGUFTiedEmbeddingTests {
    init() throws { try Torch.setNumThreads(1) }

    static let ggufFolder = Fixtures.root.appendingPathComponent("gguf")

    /// The tied weight of a tied F32 and a tied Q8_0 GGUF is one parameter shared by the embedding
    /// and the head, held transposed (`[vocab, hidden]` viewing a contiguous `[hidden, vocab]`), and
    /// equal bit for bit to gguf-reader's dequantization of `token_embd.weight`.
    @Test(arguments: ["tiny-qwen3.gguf", "tiny-gpt2.q8_0.gguf"])
    func tiedEmbeddingIsDequantizedIntoTheTransposedLayout(name: String) throws {
        let path = Self.ggufFolder.appendingPathComponent(name).path
        let model = try NNsightModels.load(path: path).model
        let shared = model.sharedLinearWeightNames()
        #expect(shared.count == 1)
        let key = try #require(shared.first)
        let weight = try #require(model.namedParameters().first { $0.name == key }?.parameter)
        #expect(!weight.isPacked)
        let value = weight.value
        #expect(try !value.isContiguous && value.t().isContiguous)
        let file = try GGUFFile(contentsOf: URL(fileURLWithPath: path))
        let expected = try Tensor(file.dequantize("token_embd.weight"), shape: file.tensorInfo("token_embd.weight").shape)
        #expect(value.shape == expected.shape)
        #expect(try value.equal(expected))
    }

    /// Row blocks of every size, the last one short, give the whole tensor.
    @Test func blockwiseTransposedDequantizationEqualsTheWhole() throws {
        let file = try GGUFFile(contentsOf: Self.ggufFolder.appendingPathComponent("tiny-gpt2.q8_0.gguf"))
        let stored = try file.tensorData("token_embd.weight")
        let expected = try Tensor(file.dequantize("token_embd.weight"), shape: stored.info.shape)
        let columns = stored.info.shape[1]
        for blockRows in [1, 7, stored.info.shape[0], stored.info.shape[0] + 5] {
            let transposed = try dequantizedTransposed(stored, blockElements: blockRows * columns)
            #expect(try transposed.equal(expected), "blocks of \(blockRows) rows")
            #expect(try transposed.t().isContiguous)
        }
    }
}
