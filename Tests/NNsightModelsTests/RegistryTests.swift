import Foundation
import NNsightNN
import NNsightTorch
import Testing
@testable import NNsightModels

/// The architecture registry: one entry per `model_type`, the standard names and their
/// load-time check, Mistral's sliding window.
@Suite struct RegistryTests {
    @Test func oneEntryPerModelType() {
        let types = ModelRegistry.families.map { $0.modelType }
        #expect(Set(types).count == types.count)
        let gguf = ModelRegistry.families.flatMap { $0.ggufArchitectures }
        #expect(Set(gguf).count == gguf.count)
    }

    @Test(arguments: Fixtures.tinyModels)
    func checkpointResolvesItsFamily(name: String) throws {
        let checkpoint = try Checkpoint(path: Fixtures.path(name))
        let modelType = try #require(Fixtures.model(name).config["model_type"]?.string)
        #expect(checkpoint.architecture == modelType)
        #expect(checkpoint.configuration.family == (try ModelRegistry.family(modelType: modelType)))
        // The standard names resolve on the real tree.
        let model = try checkpoint.makeModel()
        let names = checkpoint.standardNames
        for path in [names.layers, names.finalNorm, names.lmHead, names.embedTokens,
                     "\(names.layers).0.\(names.selfAttention)", "\(names.layers).0.\(names.mlp)"] {
            #expect(model.module(at: path) != nil, "\(name): \(path)")
        }
    }

    @Test func unknownGGUFArchitectureListsTheSupportedOnes() {
        #expect(throws: ModelError.unsupportedArchitecture("mamba (GGUF)", supported: ModelRegistry.supportedGGUFArchitectures)) {
            try ModelRegistry.family(ggufArchitecture: "mamba")
        }
        #expect(ModelRegistry.supportedGGUFArchitectures == ["gemma", "gemma2", "gemma3", "gpt2", "gptneox", "llama", "mistral", "olmo2", "phi3", "qwen2", "qwen3", "qwen3moe"])
    }

    /// nnterp's load-time check names the module that fails it.
    @Test func standardNameCheckNamesTheFailingModule() throws {
        let model = try Checkpoint(path: Fixtures.path("tiny-gpt2")).makeModel()
        var names = GPT2Family.standardNames
        try names.verify(model)

        names.mlp = "mlp.c_fc"   // [batch, sequence, 4 × hidden]: not a residual-stream module
        let wide = try #require(throws: ModelError.self) { try names.verify(model) }
        guard case .standardNameCheck(let module, let reason) = wide else { Issue.record("\(wide)"); return }
        #expect(module == "transformer.h.0.mlp.c_fc")
        #expect(reason.contains("[2, 3, 256]"))

        names = GPT2Family.standardNames
        names.lmHead = "transformer.ln_f"   // hidden-sized, not vocabulary-sized
        #expect(throws: ModelError.standardNameCheck(
            module: "transformer.ln_f", reason: "output shape [2, 3, 64], expected [2, 3, 512] ([batch, sequence, vocabulary])")) {
            try names.verify(model)
        }

        names = GPT2Family.standardNames
        names.selfAttention = "self_attn"
        #expect(throws: ModelError.standardNameCheck(module: "transformer.h.0.self_attn", reason: "no module at this path")) {
            try names.verify(model)
        }
    }

    @Test func renamePresetMapsToNNterpNames() {
        #expect(GPT2Family.standardNames.rename == [
            "transformer.h": "layers", "attn": "self_attn", "transformer.ln_f": "ln_final", "transformer.wte": "embed_tokens",
        ])
        #expect(LlamaFamily.standardNames.rename == [
            "model.layers": "layers", "model.norm": "ln_final", "model.embed_tokens": "embed_tokens",
        ])
        #expect(GPTNeoXFamily.standardNames.rename == [
            "gpt_neox.layers": "layers", "attention": "self_attn", "gpt_neox.final_layer_norm": "ln_final",
            "gpt_neox.embed_in": "embed_tokens",
        ])
    }

    @Test func slidingWindowFieldsAsEachFamilyReadsThem() throws {
        func config(_ json: [String: Any]) throws -> LlamaConfig {
            var base: [String: Any] = ["vocab_size": 32, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 4,
                                       "num_attention_heads": 2, "sliding_window": 8]
            base.merge(json) { $1 }
            let configuration = try ModelConfiguration(configData: JSONSerialization.data(withJSONObject: base))
            return try #require(configuration.config as? LlamaConfig)
        }
        #expect(try config(["model_type": "mistral"]).layerTypes == Array(repeating: .slidingAttention, count: 4))
        #expect(try config(["model_type": "llama"]).layerTypes == Array(repeating: .fullAttention, count: 4))
        #expect(try config(["model_type": "qwen2"]).layerTypes == Array(repeating: .fullAttention, count: 4))
        #expect(try config(["model_type": "qwen2", "use_sliding_window": true, "max_window_layers": 2]).layerTypes
            == [.fullAttention, .fullAttention, .slidingAttention, .slidingAttention])
        #expect(try config(["model_type": "mistral", "sliding_window": NSNull()]).layerTypes
            == Array(repeating: .fullAttention, count: 4))
        #expect(throws: ModelError.invalidConfig(field: "sliding_window", reason: "sliding-attention layers need a positive window")) {
            try config(["model_type": "mistral", "sliding_window": 0])
        }
    }
}

extension LoadingTests {
    /// tiny-mistral's window (4) is shorter than its prompts: its logits match transformers'
    /// only with the window honoured, and differ widely from the same weights without it.
    @Test func mistralSlidingWindowIsHonoured() throws {
        try Torch.setNumThreads(1)
        let expected = Fixtures.model("tiny-mistral")
        #expect(expected.config["sliding_window"]?.int == 4)
        let single = try #require(expected.single.first { $0.input_ids.count > 4 })
        let ids = try idsTensor([single.input_ids])
        let reference = try single.logits.tensor()

        let windowed = try NNsightModels.load(path: Fixtures.path("tiny-mistral")).model
        let withWindow = try Torch.noGrad { try windowed(ids, ForwardContext()) }.squeeze(dim: 0)
        #expect(try maxAbsDifference(withWindow, reference) <= 1e-4)

        let folder = try scratchCopy(of: "tiny-mistral")
        defer { try? FileManager.default.removeItem(at: folder) }
        try editConfig(folder) { $0["sliding_window"] = NSNull() }
        let unwindowed = try NNsightModels.load(path: folder.path).model
        let withoutWindow = try Torch.noGrad { try unwindowed(ids, ForwardContext()) }.squeeze(dim: 0)
        #expect(try maxAbsDifference(withoutWindow, reference) > 0.1)
        // The first `window` positions see the same keys either way.
        #expect(try maxAbsDifference(withoutWindow.narrow(dim: 0, start: 0, length: 4),
                                     reference.narrow(dim: 0, start: 0, length: 4)) <= 1e-4)
    }
}
