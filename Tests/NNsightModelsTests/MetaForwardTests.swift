import NNsightNN
import Testing
import NNsightTorch
@testable import NNsightModels

/// Whole models on the meta device (what `scan` does): built and called on shape-only tensors,
/// they give the logits' shape and dtype that a real run gives, and read no data.
@Suite struct MetaForwardTests {
    static let gpt2 = GPT2Config(vocabSize: 64, nPositions: 32, nEmbd: 16, nLayer: 2, nHead: 2)
    /// Grouped-query attention (4 query heads over 2 key/value heads), llama3 rope scaling, an
    /// untied head of its own vocabulary size.
    static let llama = LlamaConfig(vocabSize: 48, hiddenSize: 16, intermediateSize: 24, numHiddenLayers: 2,
                                   numAttentionHeads: 4, numKeyValueHeads: 2, maxPositionEmbeddings: 32,
                                   ropeScaling: .init(ropeType: "llama3", factor: 8, lowFreqFactor: 1,
                                                      highFreqFactor: 4, originalMaxPositionEmbeddings: 16))

    init() throws { try Torch.setNumThreads(1) }

    static func model(_ name: String, device: Device) throws -> any CausalLanguageModel {
        name == "gpt2" ? try GPT2LMHeadModel(gpt2, device: device) : try LlamaForCausalLM(llama, device: device)
    }

    /// Token ids [2, 5] and, with `masked`, an attention mask whose first row is left-padded.
    func forward(_ model: any CausalLanguageModel, device: Device, masked: Bool) throws -> Tensor {
        let ids: Tensor, mask: Tensor
        if device == .meta {
            ids = try Tensor.empty([2, 5], dtype: .int64, device: .meta)
            mask = try Tensor.empty([2, 5], dtype: .int64, device: .meta)
        } else {
            ids = try Tensor.randint(0, 8, [2, 5])
            mask = try Tensor([0, 0, 1, 1, 1, 1, 1, 1, 1, 1] as [Int64], shape: [2, 5])
        }
        return try model(ids, ForwardContext(attentionMask: masked ? mask : nil))
    }

    @Test(arguments: ["gpt2", "llama"], [false, true])
    func logitsShapeOnMeta(name: String, masked: Bool) throws {
        let model = try Self.model(name, device: .meta)
        #expect(model.namedParameters().allSatisfy { $0.parameter.value.device == .meta })
        let logits = try forward(model, device: .meta, masked: masked)
        #expect(logits.device == .meta)
        #expect(logits.shape == [2, 5, model.vocabularySize])
        #expect(logits.dtype == .float32)
        #expect(throws: TorchError.self) { try logits.toArray(Float.self) }

        // The real model on the CPU is the oracle.
        let real = try Torch.noGrad { try forward(Self.model(name, device: .cpu), device: .cpu, masked: masked) }
        #expect(logits.shape == real.shape)
        #expect(logits.dtype == real.dtype)
    }

    /// Without grad mode too, and with the last position's logits only (as `generate` asks).
    @Test(arguments: ["gpt2", "llama"])
    func lastPositionOnMetaWithoutGrad(name: String) throws {
        let model = try Self.model(name, device: .meta)
        let context = ForwardContext(logitsToKeep: 1)
        let logits = try Torch.noGrad { try model(Tensor.empty([2, 5], dtype: .int64, device: .meta), context) }
        #expect(logits.shape == [2, 1, model.vocabularySize])
        #expect(!logits.requiresGrad)
    }
}
