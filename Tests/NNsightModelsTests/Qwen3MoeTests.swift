import Foundation
import NNsightNN
import NNsightTorch
import Testing
@testable import NNsightModels

/// What the shared tiny-model tests do not reach on Qwen3-MoE: `norm_topk_prob` off against
/// transformers, `decoder_sparse_step` and `mlp_only_layers` in the tree transformers builds, the
/// sliding-window reading, and the fields a bad config is refused by.
extension LoadingTests {
    /// transformers' logits of tiny-qwen3-moe's weights with `norm_topk_prob` false (the fixture
    /// renormalises): matched, and different from the renormalised model's.
    @Test func qwen3MoeUnnormalizedRoutingMatchesTransformers() throws {
        try Torch.setNumThreads(1)
        struct Variant: Decodable {
            let input_ids: [Int]
            let logits: Fixtures.StoredArray
        }
        struct Entry: Decodable {
            let variant: Variant
            enum CodingKeys: String, CodingKey { case variant = "tiny-qwen3-moe-unnormalized" }
        }
        let variant = try JSONDecoder().decode(Entry.self, from: Data(contentsOf: Fixtures.root.appendingPathComponent("expected.json"))).variant
        let reference = try variant.logits.tensor()
        let folder = try scratchCopy(of: "tiny-qwen3-moe")
        defer { try? FileManager.default.removeItem(at: folder) }
        try editConfig(folder) { $0["norm_topk_prob"] = false }
        let model = try #require(try NNsightModels.load(path: folder.path).model as? Qwen3MoeForCausalLM)
        #expect(!model.config.normTopkProb)
        #expect(try maxAbsDifference(logits(model, variant.input_ids), reference) <= 1e-4)
        let normalized = try NNsightModels.load(path: Fixtures.path("tiny-qwen3-moe")).model
        #expect(try maxAbsDifference(logits(normalized, variant.input_ids), reference) > 1e-3)
    }

    /// `decoder_sparse_step` 2 with layer 3 in `mlp_only_layers`: only layer 1 sparse, printed as
    /// transformers prints the model it builds from the same config (gen_model_reprs.py, meta device).
    @Test func qwen3MoeSparseStepBuildsTransformersTree() throws {
        struct ConfigOnly: Decodable {
            let repr: String
        }
        struct File: Decodable {
            let config_only: [String: ConfigOnly]
        }
        let url = Fixtures.root.appendingPathComponent("reprs.json")
        let expected = try #require(try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).config_only["qwen3_moe-sparse-step-2"])
        let raw = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let config = try #require(((raw["config_only"] as? [String: Any])?["qwen3_moe-sparse-step-2"] as? [String: Any])?["config"])
        let configuration = try ModelConfiguration(configData: JSONSerialization.data(withJSONObject: config))
        let model = try #require(try configuration.makeModel(device: .meta) as? Qwen3MoeForCausalLM)
        #expect(model.description == expected.repr, "\(model.description)")
        #expect((0..<4).map { model.model.layers[$0].mlp is SparseMoeBlock } == [false, true, false, false])
    }

    /// The sliding window applies only with `use_sliding_window` (then on every layer, 4096 by default).
    @Test func qwen3MoeSlidingWindowAndDefaults() throws {
        let json: [String: Any] = ["model_type": "qwen3_moe", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 64,
                                   "num_hidden_layers": 2, "num_attention_heads": 2, "sliding_window": 8]
        let plain = try #require(try ModelConfiguration(configData: JSONSerialization.data(withJSONObject: json)).config as? Qwen3MoeConfig)
        #expect(plain.llama.slidingWindow == nil && plain.llama.layerTypes == [.fullAttention, .fullAttention])
        #expect(plain.numExperts == 128 && plain.numExpertsPerToken == 8 && plain.moeIntermediateSize == 768)
        #expect(!plain.normTopkProb && plain.decoderSparseStep == 1 && plain.mlpOnlyLayers.isEmpty)
        #expect(plain.llama.headDim == 16, "hidden / heads, not Qwen3's 128")
        var windowed = json
        windowed["use_sliding_window"] = true
        windowed["sliding_window"] = nil
        let slides = try #require(try ModelConfiguration(configData: JSONSerialization.data(withJSONObject: windowed)).config as? Qwen3MoeConfig)
        #expect(slides.llama.slidingWindow == 4096 && slides.llama.layerTypes == [.slidingAttention, .slidingAttention])
    }

    @Test func qwen3MoeRefusesBadConfigsByField() throws {
        let json: [String: Any] = ["model_type": "qwen3_moe", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 64,
                                   "num_hidden_layers": 2, "num_attention_heads": 2, "num_experts": 4, "num_experts_per_tok": 2,
                                   "moe_intermediate_size": 16]
        for (edit, field) in [(["decoder_sparse_step": 0], "decoder_sparse_step"),
                              (["mlp_only_layers": [2]], "mlp_only_layers"),
                              (["num_experts_per_tok": 5], "num_experts_per_tok"),
                              (["moe_intermediate_size": 0], "moe_intermediate_size"),
                              (["num_experts": -1], "num_experts")] as [([String: Any], String)] {
            let error = try #require(throws: ModelError.self) {
                try ModelConfiguration(configData: JSONSerialization.data(withJSONObject: json.merging(edit) { $1 }))
            }
            guard case .invalidConfig(let named, _) = error else { Issue.record("\(error)"); continue }
            #expect(named == field)
        }
        // All layers dense (mlp_only_layers): no expert field matters.
        let dense = json.merging(["mlp_only_layers": [0, 1], "num_experts_per_tok": 9]) { $1 }
        #expect(throws: Never.self) { try ModelConfiguration(configData: JSONSerialization.data(withJSONObject: dense)) }
    }

    /// Qwen3-30B-A3B's `config.json` as the hub has it (transformers 4.51 spelling): built on the
    /// meta device, 48 layers of 128 experts, and the model card's 30.5 B parameters.
    @Test func qwen3MoeHubConfigBuildsOnMeta() throws {
        let hub = """
        {"architectures": ["Qwen3MoeForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
         "bos_token_id": 151643, "decoder_sparse_step": 1, "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu",
         "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 6144, "max_position_embeddings": 40960,
         "max_window_layers": 48, "mlp_only_layers": [], "model_type": "qwen3_moe", "moe_intermediate_size": 768,
         "norm_topk_prob": true, "num_attention_heads": 32, "num_experts": 128, "num_experts_per_tok": 8,
         "num_hidden_layers": 48, "num_key_value_heads": 4, "output_router_logits": false, "rms_norm_eps": 1e-06,
         "rope_scaling": null, "rope_theta": 1000000.0, "router_aux_loss_coef": 0.001, "sliding_window": null,
         "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.51.0", "use_cache": true,
         "use_sliding_window": false, "vocab_size": 151936}
        """
        let configuration = try ModelConfiguration(configData: Data(hub.utf8))
        let model = try #require(try configuration.makeModel(device: .meta) as? Qwen3MoeForCausalLM)
        #expect(model.model.layers.count == 48 && model.model.layers.allSatisfy { $0.mlp is SparseMoeBlock })
        let parameters = Double(model.namedParameters().reduce(0) { $0 + $1.parameter.value.count })
        #expect(parameters == configuration.config.parameterCountEstimate)
        #expect(abs(parameters / 30.5e9 - 1) < 0.01, "\(parameters)")
        #expect(model.config.llama.ropeTheta == 1_000_000 && model.config.llama.layerTypes.allSatisfy { $0 == .fullAttention })
    }
}
