import Foundation
import NNsightNN
import NNsightTorch
import Testing
@testable import NNsightModels

/// What the shared tiny-model tests do not reach on Gemma 3: each of its config fields changing
/// the logits, its soft-caps against transformers, both spellings of its config and the defaults
/// transformers fills in.
extension LoadingTests {
    /// Each Gemma 3 feature the tiny config sets changes the logits: reading the checkpoint
    /// without it moves them away from transformers' (whose match the shared tests check).
    @Test(arguments: ["sliding_window", "query_pre_attn_scalar", "rope_local_base_freq", "rope_scaling", "rope_theta"])
    func gemma3FieldsMatter(field: String) throws {
        try Torch.setNumThreads(1)
        let entry = Fixtures.model("tiny-gemma3").single[2]
        let reference = try entry.logits.tensor()
        let folder = try scratchCopy(of: "tiny-gemma3")
        defer { try? FileManager.default.removeItem(at: folder) }
        try editConfig(folder) { config in
            switch field {
            case "sliding_window": config[field] = 64                 // longer than every prompt
            case "query_pre_attn_scalar": config[field] = 16          // head_dim
            case "rope_local_base_freq": config[field] = 1_000_000.0  // the global base
            case "rope_theta": config[field] = 10000.0                // the local base
            default: config[field] = NSNull()
            }
        }
        let model = try NNsightModels.load(path: folder.path).model
        #expect(try maxAbsDifference(logits(model, entry.input_ids), reference) > 1e-3, "\(field)")
    }

    /// With soft-caps in its config, transformers' Gemma 3 caps the final logits and, unlike
    /// Gemma 2, leaves the attention scores uncapped: so does this.
    @Test func gemma3SoftcapsMatchTransformers() throws {
        try Torch.setNumThreads(1)
        struct Variant: Decodable {
            let input_ids: [Int]
            let logits: Fixtures.StoredArray
            let config_override: [String: Double]
        }
        struct Entry: Decodable {
            let variant: Variant
            enum CodingKeys: String, CodingKey { case variant = "tiny-gemma3-softcapped" }
        }
        let variant = try JSONDecoder().decode(Entry.self, from: Data(contentsOf: Fixtures.root.appendingPathComponent("expected.json"))).variant
        let reference = try variant.logits.tensor()
        let folder = try scratchCopy(of: "tiny-gemma3")
        defer { try? FileManager.default.removeItem(at: folder) }
        try editConfig(folder) { config in
            for (key, value) in variant.config_override { config[key] = value }
        }
        let model = try #require(try NNsightModels.load(path: folder.path).model as? GemmaForCausalLM)
        #expect(model.config.finalLogitSoftcapping == variant.config_override["final_logit_softcapping"])
        #expect(model.config.attnLogitSoftcapping == nil)
        let capped = try logits(model, variant.input_ids)
        #expect(try maxAbsDifference(capped, reference) <= 1e-4)
        #expect(try capped.abs().max().item(Double.self) < 2)
        let uncapped = try logits(NNsightModels.load(path: Fixtures.path("tiny-gemma3")).model, variant.input_ids)
        #expect(try maxAbsDifference(uncapped, reference) > 0.1)
    }

    /// transformers 5 saves Gemma 3's config with `rope_parameters` per layer type and
    /// `layer_types`; hub checkpoints spell it `rope_theta`, `rope_local_base_freq`, `rope_scaling`
    /// and `sliding_window_pattern` (the fixture's spelling). Both read as the same model.
    @Test func gemma3ReadsBothConfigSpellings() throws {
        try Torch.setNumThreads(1)
        let hub = try #require(try Checkpoint(path: Fixtures.path("tiny-gemma3")).configuration.config as? GemmaConfig)
        let folder = try scratchCopy(of: "tiny-gemma3")
        defer { try? FileManager.default.removeItem(at: folder) }
        let expected = Fixtures.model("tiny-gemma3").config
        try editConfig(folder) { config in
            for key in ["rope_theta", "rope_local_base_freq", "rope_scaling", "sliding_window_pattern"] { config[key] = nil }
            config["rope_parameters"] = [
                "full_attention": ["rope_type": "linear", "factor": 8.0, "rope_theta": 1_000_000.0],
                "sliding_attention": ["rope_type": "default", "rope_theta": 10000.0],
            ]
            config["layer_types"] = expected["layer_types"]?.array?.compactMap(\.string)
        }
        let loaded = try NNsightModels.load(path: folder.path).model
        let v5 = try #require((loaded as? GemmaForCausalLM)?.config)
        #expect(v5.layerTypes == hub.layerTypes)
        #expect(hub.layerTypes == [.slidingAttention, .slidingAttention, .slidingAttention, .slidingAttention, .slidingAttention,
                                   .fullAttention])
        #expect(v5.ropeTheta == hub.ropeTheta && v5.ropeLocalBaseFreq == hub.ropeLocalBaseFreq)
        #expect(v5.ropeScaling == hub.ropeScaling)
        #expect(hub.ropeScaling == LlamaConfig.RopeScaling(ropeType: "linear", factor: 8))
        let entry = Fixtures.model("tiny-gemma3").single[2]
        #expect(try maxAbsDifference(logits(loaded, entry.input_ids), entry.logits.tensor()) <= 1e-4)
    }

    /// What transformers' `Gemma3TextConfig` fills in for a config that leaves it out, and the
    /// fields a bad config is refused by.
    @Test func gemma3DefaultsAndRefusals() throws {
        let json: [String: Any] = ["model_type": "gemma3_text", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 64,
                                   "num_hidden_layers": 7, "num_attention_heads": 2, "head_dim": 16]
        let config = try #require(try ModelConfiguration(configData: JSONSerialization.data(withJSONObject: json)).config as? GemmaConfig)
        #expect(config.queryPreAttnScalar == 256)
        #expect(config.slidingWindow == 4096)
        #expect(config.ropeTheta == 1_000_000 && config.ropeLocalBaseFreq == 10000 && config.ropeScaling == nil)
        #expect(config.attnLogitSoftcapping == nil && config.finalLogitSoftcapping == nil)
        // Every sixth layer global (`sliding_window_pattern` 6).
        #expect(config.layerTypes == [.slidingAttention, .slidingAttention, .slidingAttention, .slidingAttention, .slidingAttention,
                                      .fullAttention, .slidingAttention])
        let model = try #require(try ModelConfiguration(configData: JSONSerialization.data(withJSONObject: json))
            .makeModel(device: .meta) as? GemmaForCausalLM)
        #expect(model.typeName == "Gemma3ForCausalLM" && model.model.typeName == "Gemma3TextModel")
        #expect(model.model.layers[0].self_attn.q_norm?.weight.value.shape == [16])

        for (edit, field) in [(["use_bidirectional_attention": true], "use_bidirectional_attention"),
                              (["rope_scaling": ["rope_type": "yarn", "factor": 2.0]], "rope_scaling.rope_type"),
                              (["rope_scaling": ["rope_type": "linear"]], "rope_scaling.factor"),
                              (["sliding_window_pattern": 0], "sliding_window_pattern"),
                              (["rope_local_base_freq": -1.0], "rope_local_base_freq"),
                              (["rope_parameters": ["sliding_attention": ["rope_type": "linear", "factor": 2.0]]],
                               "rope_parameters.sliding_attention.rope_type")] as [([String: Any], String)] {
            let bad = json.merging(edit) { $1 }
            let error = try #require(throws: ModelError.self) {
                try ModelConfiguration(configData: JSONSerialization.data(withJSONObject: bad))
            }
            guard case .invalidConfig(let named, _) = error else { Issue.record("\(error)"); continue }
            #expect(named == field)
        }
    }

    /// Gemma 3 1B's `config.json` as the hub has it: built on the meta device with its 26 layers
    /// in the 5:1 pattern and about the 1 B parameters of its name.
    @Test func gemma3HubConfigBuildsOnMeta() throws {
        let hub = """
        {"architectures": ["Gemma3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
         "attn_logit_softcapping": null, "bos_token_id": 2, "cache_implementation": "hybrid", "eos_token_id": [1, 106],
         "final_logit_softcapping": null, "head_dim": 256, "hidden_activation": "gelu_pytorch_tanh", "hidden_size": 1152,
         "initializer_range": 0.02, "intermediate_size": 6912, "max_position_embeddings": 32768,
         "model_type": "gemma3_text", "num_attention_heads": 4, "num_hidden_layers": 26, "num_key_value_heads": 1,
         "pad_token_id": 0, "query_pre_attn_scalar": 256, "rms_norm_eps": 1e-06, "rope_local_base_freq": 10000,
         "rope_scaling": null, "rope_theta": 1000000, "sliding_window": 512, "sliding_window_pattern": 6,
         "torch_dtype": "bfloat16", "transformers_version": "4.50.0.dev0", "use_cache": true, "vocab_size": 262144}
        """
        let configuration = try ModelConfiguration(configData: Data(hub.utf8))
        #expect(configuration.config.eosTokenIds == [1, 106])
        let model = try #require(try configuration.makeModel(device: .meta) as? GemmaForCausalLM)
        #expect(model.config.layerTypes.enumerated().allSatisfy { ($0.element == .fullAttention) == ($0.offset % 6 == 5) })
        let parameters = Double(model.namedParameters().reduce(0) { $0 + $1.parameter.value.count })
        #expect(parameters == configuration.config.parameterCountEstimate)
        #expect(abs(parameters / 1.0e9 - 1) < 0.01, "\(parameters)")
    }
}
