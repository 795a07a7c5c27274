import Foundation
import NNsightNN
import NNsightTorch
import Testing
@testable import NNsightModels

/// What the shared tiny-model tests do not reach on the Gemma, Qwen3 and OLMo-2 families:
/// llama.cpp's GGUF copies (its tensor names, Gemma's `1 + w` norm weights), and the Gemma 2
/// config fields each changing the logits.
extension LoadingTests {
    func logits(_ model: any CausalLanguageModel, _ ids: [Int]) throws -> Tensor {
        try Torch.noGrad { try model(idsTensor([ids]), ForwardContext()) }.squeeze(dim: 0)
    }

    /// The GGUF copies gen_models.py wrote of the tiny checkpoints, under llama.cpp's tensor names
    /// and conventions, give the safetensors checkpoints' logits. llama.cpp keeps no
    /// `query_pre_attn_scalar` and scales Gemma 2 by `head_dim ** -0.5` (as Gemma 2 2B and 9B
    /// have it), so the safetensors side is read with that.
    @Test(arguments: [("tiny-gemma2", "gemma2"), ("tiny-gemma", "gemma"), ("tiny-qwen3", "qwen3"), ("tiny-olmo2", "olmo2"),
                     ("tiny-gemma3", "gemma3"), ("tiny-qwen3-moe", "qwen3moe")])
    func ggufCopyMatchesSafetensors(name: String, architecture: String) throws {
        try Torch.setNumThreads(1)
        let gguf = try Checkpoint(path: Fixtures.root.appendingPathComponent("gguf/\(name).gguf").path)
        #expect(gguf.configuration.family.ggufArchitectures.contains(architecture))
        #expect(gguf.configuration.modelType == Fixtures.model(name).config["model_type"]?.string)
        let fromGGUF = try gguf.makeModel(device: .cpu)
        try gguf.loadWeights(into: fromGGUF)

        let folder = try scratchCopy(of: name)
        defer { try? FileManager.default.removeItem(at: folder) }
        try editConfig(folder) { config in
            if config["query_pre_attn_scalar"] != nil { config["query_pre_attn_scalar"] = config["head_dim"] }
        }
        let fromSafetensors = try NNsightModels.load(path: folder.path).model
        // The same tree (the GGUF's eps is float32's 1e-5, printed as such: compared apart).
        #expect(fromGGUF.namedModules().map(\.name) == fromSafetensors.namedModules().map(\.name))
        #expect(fromGGUF.typeName == fromSafetensors.typeName)

        let ids = Fixtures.model(name).single[2].input_ids
        let expected = try logits(fromSafetensors, ids)
        #expect(try maxAbsDifference(logits(fromGGUF, ids), expected) <= 1e-4)
        if let gemma = fromGGUF as? GemmaForCausalLM {
            // The norms were stored as 1 + w: reading them as they are would change the logits.
            try gemma.model.norm.weight.value.add_(1)
            #expect(try maxAbsDifference(logits(fromGGUF, ids), expected) > 1e-2)
        }
    }

    /// Each Gemma 2 feature the tiny config sets changes the logits: reading the checkpoint
    /// without it moves them away from transformers' (whose match the shared tests check).
    @Test(arguments: ["attn_logit_softcapping", "final_logit_softcapping", "query_pre_attn_scalar", "sliding_window"])
    func gemma2FieldsMatter(field: String) throws {
        try Torch.setNumThreads(1)
        let entry = Fixtures.model("tiny-gemma2").single[2]
        let reference = try entry.logits.tensor()
        let folder = try scratchCopy(of: "tiny-gemma2")
        defer { try? FileManager.default.removeItem(at: folder) }
        try editConfig(folder) { config in
            switch field {
            case "query_pre_attn_scalar": config[field] = 16
            case "sliding_window": config[field] = 64
            default: config[field] = NSNull()
            }
        }
        let model = try NNsightModels.load(path: folder.path).model
        #expect(try maxAbsDifference(logits(model, entry.input_ids), reference) > 1e-3, "\(field)")
    }

    /// Gemma 2's config leaves out what transformers defaults: soft-caps 50 and 30, window 4096,
    /// sliding layers first and alternating.
    @Test func gemma2Defaults() throws {
        let json: [String: Any] = ["model_type": "gemma2", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 64,
                                   "num_hidden_layers": 3, "num_attention_heads": 2, "head_dim": 16]
        let config = try #require(try ModelConfiguration(configData: JSONSerialization.data(withJSONObject: json)).config as? GemmaConfig)
        #expect(config.attnLogitSoftcapping == 50)
        #expect(config.finalLogitSoftcapping == 30)
        #expect(config.slidingWindow == 4096)
        #expect(config.queryPreAttnScalar == 256)
        #expect(config.layerTypes == [.slidingAttention, .fullAttention, .slidingAttention])
        var bad = json
        bad["hidden_activation"] = "swish"
        #expect(throws: ModelError.invalidConfig(field: "hidden_activation", reason: "unsupported value \"swish\"")) {
            try ModelConfiguration(configData: JSONSerialization.data(withJSONObject: bad))
        }
    }

    /// Qwen3's config: `head_dim` 128 when absent (transformers' default, not hidden / heads),
    /// Qwen2's sliding-window reading, and `q_norm`/`k_norm` over the head size.
    @Test func qwen3ConfigAndNorms() throws {
        let json: [String: Any] = ["model_type": "qwen3", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 64,
                                   "num_hidden_layers": 4, "num_attention_heads": 2, "sliding_window": 8,
                                   "use_sliding_window": true, "max_window_layers": 2]
        let configuration = try ModelConfiguration(configData: JSONSerialization.data(withJSONObject: json))
        let config = try #require(configuration.config as? LlamaConfig)
        #expect(config.headDim == 128)
        #expect(config.layerTypes == [.fullAttention, .fullAttention, .slidingAttention, .slidingAttention])
        let model = try #require(try configuration.makeModel() as? LlamaForCausalLM)
        let attention = model.model.layers[0].self_attn
        #expect(attention.typeName == "Qwen3Attention")
        #expect(attention.q_norm?.weight.value.shape == [128])
        #expect(attention.k_norm?.weight.value.shape == [128])
        #expect(try #require(try ModelConfiguration(configData: JSONSerialization.data(
            withJSONObject: ["model_type": "llama", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 64,
                             "num_hidden_layers": 1, "num_attention_heads": 2])).makeModel() as? LlamaForCausalLM)
            .model.layers[0].self_attn.q_norm == nil)
    }
}
