import NNsightNN
import NNsightTorch
import Testing
@testable import NNsightModels

/// The generic pieces every family specialises (``DecoderModel``, ``DecoderForCausalLM``): what
/// each specialisation prints and stores comes from the family, not from the generic type. Built
/// on the meta device (shapes only).
@Suite struct DecoderModelTests {
    init() throws { try Torch.setNumThreads(1) }

    static func llamaConfig(slidingWindow: Int? = nil) -> LlamaConfig {
        LlamaConfig(vocabSize: 32, hiddenSize: 16, intermediateSize: 24, numHiddenLayers: 2, numAttentionHeads: 2,
                    slidingWindow: slidingWindow)
    }

    /// One `DecoderModel` specialisation serves Llama, Mistral and Qwen2: each prints
    /// transformers' class names for its own member and keeps the variant it was built with.
    @Test(arguments: [(LlamaVariant.llama, "Llama"), (.mistral, "Mistral"), (.qwen2, "Qwen2")])
    func llamaFamilyMembersPrintTheirOwnClassNames(variant: LlamaVariant, prefix: String) throws {
        let model = try LlamaForCausalLM(Self.llamaConfig(), variant: variant, device: .meta)
        #expect(model.typeName == "\(prefix)ForCausalLM")
        #expect(model.model.typeName == "\(prefix)Model")
        #expect(model.model.layers[1].typeName == "\(prefix)DecoderLayer")
        #expect(model.model.rotary_emb.typeName == "\(prefix)RotaryEmbedding")
        #expect(model.variant == variant && model.model.variant == variant)
    }

    /// Mistral reads `sliding_window` as every layer's window; OLMo 2, built from the same
    /// fields, has no sliding window whatever the config says (its cache keeps every key).
    @Test func olmo2IgnoresASlidingWindowItsConfigCarries() throws {
        let config = Self.llamaConfig(slidingWindow: 3)
        let mistral = try LlamaForCausalLM(config, variant: .mistral, device: .meta)
        #expect(mistral.model.layerWindows == [3, 3])
        let olmo = try Olmo2ForCausalLM(config, device: .meta)
        #expect(olmo.model.layerWindows == [nil, nil])
        #expect(olmo.model.typeName == "Olmo2Model" && olmo.typeName == "Olmo2ForCausalLM")
    }

    /// The stack is printed, addressed and keyed under transformers' attribute name for it.
    @Test func causalLanguageModelsNameTheirStackAsTransformersDoes() throws {
        let gptj = try GPTJForCausalLM(GPTJConfig(vocabSize: 32, nPositions: 16, nEmbd: 16, nLayer: 1, nHead: 2, rotaryDim: 4),
                                       device: .meta)
        let neox = try GPTNeoXForCausalLM(GPTNeoXConfig(vocabSize: 32, hiddenSize: 16, numHiddenLayers: 1,
                                                        numAttentionHeads: 2, intermediateSize: 32), device: .meta)
        let opt = try OPTForCausalLM(OPTConfig(vocabSize: 32, hiddenSize: 16, numHiddenLayers: 1, ffnDim: 32,
                                               numAttentionHeads: 2), device: .meta)
        #expect(gptj.namedChildren.map(\.name) == ["transformer", "lm_head"])
        #expect(neox.namedChildren.map(\.name) == ["gpt_neox", "lm_head"])
        #expect(opt.namedChildren.map(\.name) == ["model", "lm_head"])
        #expect(gptj.module(at: "transformer.h.0") === gptj.transformer.h[0])
        #expect(neox.module(at: "gpt_neox.layers.0.attention") === neox.gpt_neox.layers[0].attention)
        #expect(opt.module(at: "model.decoder.layers.0") === opt.model.decoder.layers[0])
        #expect(gptj.namedParameters().contains { $0.name == "transformer.wte.weight" })
        #expect(!neox.namedParameters().contains { $0.name.hasPrefix("baseModel") })
        // GPT-J's head has a bias of its own; OPT's shares the embedding's weight (tied).
        #expect(gptj.lm_head.bias != nil && neox.lm_head.bias == nil)
        #expect(opt.lm_head.weight === opt.model.decoder.embed_tokens.weight)
        #expect(opt.layerCount == 1 && opt.vocabularySize == 32)
    }
}
