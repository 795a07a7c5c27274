import NNsightModels
import Testing
import NNsightTorch
@testable import NNsight

/// `generate` on `NNsight` around a causal language model (token ids in, no tokenizer).
struct WrappedGenerationTests {
    @Test func testWrappedGenerateMatchesRawAndFollowsEveryStep() throws {
        let network = try GPT2LMHeadModel(GPT2Config(vocabSize: 97, nPositions: 32, nEmbd: 16, nLayer: 2, nHead: 2))
        network.eval()
        let ids = try Tensor.randint(0, 97, [1, 5], generator: Generator(seed: 0))
        let raw = try NNsightModels.generate(network, inputIds: ids, options: GenerationOptions(maxNewTokens: 4))
        let model = NNsightModel(network)
        let (outputs, result) = try model.generate(ids, maxNewTokens: 4) { m, t in
            var outputs: [Tensor] = []
            for _ in t.all() { outputs.append(try m.transformer.h[-1].output) }
            return (outputs, try t.result())
        }
        #expect(try result.equal(raw))
        #expect(outputs.map(\.shape) == [[1, 5, 16], [1, 1, 16], [1, 1, 16], [1, 1, 16]])
    }
}
