import Foundation
import NNsightNN
import NNsightTorch
import Testing
@testable import NNsightModels

/// Every config is validated before anything is built; each failure names its field.
@Suite struct ConfigValidationTests {
    static var gpt2: [String: Any] { ["model_type": "gpt2", "vocab_size": 64, "n_positions": 32, "n_embd": 16,
                                      "n_layer": 2, "n_head": 2] }
    static var llama: [String: Any] { ["model_type": "llama", "vocab_size": 64, "hidden_size": 16,
                                       "intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2] }

    /// The field a `config.json` made of `base` with `changes` is refused for (nil: accepted).
    func refusedField(_ base: [String: Any], _ changes: [String: Any], device: Device = .meta) throws -> String? {
        let data = try JSONSerialization.data(withJSONObject: base.merging(changes) { $1 })
        do {
            _ = try makeModel(configData: data, device: device)
            return nil
        } catch ModelError.invalidConfig(let field, _) {
            return field
        }
    }

    @Test func validConfigsBuild() throws {
        #expect(try refusedField(Self.gpt2, [:]) == nil)
        #expect(try refusedField(Self.llama, [:]) == nil)
        #expect(try refusedField(Self.llama, ["model_type": "qwen2"]) == nil)
        #expect(try refusedField(Self.llama, ["model_type": "mistral", "sliding_window": 4]) == nil)
        // An explicit head_dim need not divide the hidden size (Gemma-style shapes).
        #expect(try refusedField(Self.llama, ["hidden_size": 20, "head_dim": 8]) == nil)
    }

    /// The issue's config: a billion GPT-2 layers allocated modules without bound; now refused
    /// by validation, before the first module exists.
    @Test func billionLayerGPT2IsRefusedBeforeBuilding() throws {
        let data = try JSONSerialization.data(withJSONObject: Self.gpt2.merging(["n_layer": 1_000_000_000]) { $1 })
        let error = try #require(throws: ModelError.self) { try makeModel(configData: data, device: .cpu) }
        guard case .invalidConfig(let field, let reason) = error else { Issue.record("\(error)"); return }
        #expect(field == "n_layer")
        #expect(reason.contains("past any real model's"))
        // The same through the typed config and on the meta device.
        let config = GPT2Config(vocabSize: 64, nPositions: 32, nEmbd: 16, nLayer: 1_000_000_000, nHead: 2)
        #expect(throws: ModelError.self) { try GPT2LMHeadModel(config, device: .meta) }
    }

    /// The issue's other config: hidden size 7 over 2 heads (a head size of 3.5).
    @Test func llamaHeadSizeMustBeWhole() throws {
        let data = try JSONSerialization.data(withJSONObject: Self.llama.merging(["hidden_size": 7]) { $1 })
        #expect(throws: ModelError.invalidConfig(
            field: "hidden_size", reason: "7 is not divisible by num_attention_heads 2 (the head size would not be whole)")) {
            try makeModel(configData: data)
        }
        let config = LlamaConfig(vocabSize: 64, hiddenSize: 7, intermediateSize: 32, numHiddenLayers: 2, numAttentionHeads: 2)
        #expect(throws: ModelError.self) { try LlamaForCausalLM(config, device: .meta) }
    }

    @Test func eachBadFieldIsNamed() throws {
        let gpt2Cases: [([String: Any], String)] = [
            (["n_head": 0], "n_head"),
            (["n_head": 3], "n_embd"),
            (["vocab_size": -1], "vocab_size"),
            (["n_positions": 0], "n_positions"),
            (["n_inner": 0], "n_inner"),
            (["layer_norm_epsilon": 0], "layer_norm_epsilon"),
            (["resid_pdrop": 1.5], "resid_pdrop"),
            (["n_embd": 1 << 21, "n_head": 1], "n_embd"),
            // Every size within its bound, the whole past any real model: 4096 layers of width 2¹⁶.
            (["n_layer": 4096, "n_embd": 1 << 16, "n_head": 1], "n_layer"),
            (["vocab_size": 1 << 23, "n_embd": 1 << 18, "n_head": 1, "n_layer": 1], "vocab_size"),
        ]
        for (changes, field) in gpt2Cases {
            #expect(try refusedField(Self.gpt2, changes) == field, "\(changes)")
        }
        let llamaCases: [([String: Any], String)] = [
            (["num_hidden_layers": 0], "num_hidden_layers"),
            (["num_hidden_layers": 5000], "num_hidden_layers"),
            (["num_attention_heads": 0], "num_attention_heads"),
            (["num_key_value_heads": 3, "num_attention_heads": 4], "num_key_value_heads"),
            (["intermediate_size": -8], "intermediate_size"),
            (["head_dim": 7], "head_dim"),
            (["head_dim": 0], "head_dim"),
            (["max_position_embeddings": 0], "max_position_embeddings"),
            (["rms_norm_eps": -1e-6], "rms_norm_eps"),
            (["rope_theta": 0], "rope_theta"),
            (["pad_token_id": 64], "pad_token_id"),
            (["rope_scaling": ["rope_type": "linear", "factor": -2]], "rope_scaling.factor"),
            (["model_type": "qwen2", "use_sliding_window": true, "sliding_window": 4, "layer_types": ["full_attention"]],
             "layer_types"),
            (["num_hidden_layers": 4000, "hidden_size": 1 << 14, "intermediate_size": 1 << 16], "num_hidden_layers"),
        ]
        for (changes, field) in llamaCases {
            #expect(try refusedField(Self.llama, changes) == field, "\(changes)")
        }
    }

    /// Within the bounds but too large for this machine: shapes only on the meta device, refused
    /// where it would allocate (6 TB of float32 weights).
    @Test func whatCannotFitInMemoryIsRefusedWhereItWouldAllocate() throws {
        let huge = ["num_hidden_layers": 1000, "hidden_size": 8192, "intermediate_size": 1 << 16,
                    "num_attention_heads": 64] as [String: Any]
        let config = try #require(try ModelConfiguration(configData: JSONSerialization.data(
            withJSONObject: Self.llama.merging(huge) { $1 })).config as? LlamaConfig)
        #expect(config.parameterCountEstimate > 1.5e12)
        #expect(config.parameterCountEstimate < ConfigLimits.maxParameters)
        // Meta: nothing allocated, the shapes are there.
        let meta = try LlamaForCausalLM(config, device: .meta)
        #expect(meta.model.layers.count == 1000)
        let error = try #require(throws: ModelError.self) { try LlamaForCausalLM(config, device: .cpu) }
        guard case .invalidConfig(let field, let reason) = error else { Issue.record("\(error)"); return }
        #expect(field == "num_hidden_layers")
        #expect(reason.contains("this machine has"))
    }

    /// The estimate is the real count for the fixtures (biases and norms included).
    @Test(arguments: Fixtures.tinyModels)
    func parameterEstimateMatchesTheFixtures(name: String) throws {
        let checkpoint = try Checkpoint(path: Fixtures.path(name))
        #expect(Int(checkpoint.configuration.config.parameterCountEstimate) == Fixtures.model(name).parameter_count)
    }
}
