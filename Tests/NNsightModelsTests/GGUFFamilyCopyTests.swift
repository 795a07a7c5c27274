import Foundation
import NNsightGGUF
import NNsightNN
import NNsightTorch
import Testing
@testable import NNsightModels

/// llama.cpp's `gptneox`, `phi3` and `gpt2` GGUF files: the tiny checkpoints converted as
/// `convert_hf_to_gguf.py` converts them (scripts/fixtures/gen_gguf_families.py: NeoX's q/k/v
/// regrouped, GPT-2's Conv1D weights transposed, tied heads left out), F32 and Q8_0.
@Suite struct GGUFFamilyCopyTests {
    init() throws { try Torch.setNumThreads(1) }

    struct Copy: Decodable, Sendable {
        let architecture: String
        let f32: String
        let q8_0: String
        let input_ids: [Int]
        let q8_0_logits: Fixtures.StoredArray
    }

    struct Copies: Decodable, Sendable { let copies: [String: Copy] }

    static let copies: [String: Copy] = {
        let url = Fixtures.root.appendingPathComponent("gguf-families.json")
        return try! JSONDecoder().decode(Copies.self, from: Data(contentsOf: url)).copies
    }()

    func logits(_ model: any CausalLanguageModel, _ ids: [Int]) throws -> Tensor {
        try Torch.noGrad { try model(idsTensor([ids]), ForwardContext()) }.squeeze(dim: 0)
    }

    func loadGGUF(_ relative: String) throws -> (checkpoint: Checkpoint, model: any CausalLanguageModel) {
        let checkpoint = try Checkpoint(path: Fixtures.root.appendingPathComponent(relative).path)
        let model = try checkpoint.makeModel(device: .cpu)
        try checkpoint.loadWeights(into: model)
        return (checkpoint, model)
    }

    /// The F32 copy: the configuration read from the `<arch>.*` keys equals the one read from
    /// config.json, the tree is the same, and the logits equal the safetensors model's.
    @Test(arguments: [("tiny-gpt-neox", "gpt_neox"), ("tiny-phi3", "phi3"), ("tiny-gpt2", "gpt2")])
    func f32CopyMatchesSafetensors(name: String, modelType: String) throws {
        let copy = try #require(Self.copies[name])
        let (gguf, fromGGUF) = try loadGGUF(copy.f32)
        let safetensors = try Checkpoint(path: Fixtures.path(name))
        let fromSafetensors = try safetensors.makeModel(device: .cpu)
        try safetensors.loadWeights(into: fromSafetensors)
        #expect(gguf.configuration.modelType == modelType)
        #expect(sameConfig(gguf.configuration.config, safetensors.configuration.config),
                "GGUF: \(gguf.configuration.config)\nconfig.json: \(safetensors.configuration.config)")
        #expect(fromGGUF.namedModules().map(\.name) == fromSafetensors.namedModules().map(\.name))
        #expect(fromGGUF.typeName == fromSafetensors.typeName)
        let expected = try logits(fromSafetensors, copy.input_ids)
        #expect(try maxAbsDifference(logits(fromGGUF, copy.input_ids), expected) <= 1e-5)
    }

    /// The Q8_0 copy gives transformers' logits for the weights gguf-py dequantizes from it.
    @Test(arguments: ["tiny-gpt-neox", "tiny-phi3", "tiny-gpt2"])
    func q8CopyMatchesDequantizedReference(name: String) throws {
        let copy = try #require(Self.copies[name])
        let (_, model) = try loadGGUF(copy.q8_0)
        let expected = try copy.q8_0_logits.tensor()
        #expect(try maxAbsDifference(logits(model, copy.input_ids), expected) <= 1e-4)
        // Quantization moved the weights: the F32 model's logits are elsewhere.
        let (_, f32) = try loadGGUF(copy.f32)
        #expect(try maxAbsDifference(logits(f32, copy.input_ids), expected) > 1e-3)
    }

    /// llama.cpp's regrouping of GPT-NeoX's `attn_qkv` is undone: the rows as stored (all q,
    /// all k, all v) would give other logits.
    @Test func neoxQKVRegroupingMatters() throws {
        let copy = try #require(Self.copies["tiny-gpt-neox"])
        let (_, model) = try loadGGUF(copy.f32)
        let neox = try #require(model as? GPTNeoXForCausalLM)
        let expected = try logits(model, copy.input_ids)
        let file = try GGUFFile(contentsOf: Fixtures.root.appendingPathComponent(copy.f32))
        let stored = try Tensor(file.dequantize("blk.0.attn_qkv.weight"), shape: file.tensorInfo("blk.0.attn_qkv.weight").shape)
        _ = try Torch.noGrad { try neox.gpt_neox.layers[0].attention.query_key_value.weight.value.copy_(stored) }
        #expect(try maxAbsDifference(logits(model, copy.input_ids), expected) > 1e-2)
    }

    /// The family of each architecture, and the model keys of llama.cpp's names.
    @Test func namesMapToTheModelsKeys() throws {
        #expect(try ObjectIdentifier(ModelRegistry.family(ggufArchitecture: "gptneox")) == ObjectIdentifier(GPTNeoXFamily.self))
        #expect(try ObjectIdentifier(ModelRegistry.family(ggufArchitecture: "phi3")) == ObjectIdentifier(Phi3Family.self))
        #expect(try ObjectIdentifier(ModelRegistry.family(ggufArchitecture: "gpt2")) == ObjectIdentifier(GPT2Family.self))
        let neox = GPTNeoXConfig(vocabSize: 8, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 8)
        #expect(GPTNeoXFamily.modelKey(forGGUFTensor: "blk.3.attn_qkv.bias", config: neox) == "gpt_neox.layers.3.attention.query_key_value.bias")
        #expect(GPTNeoXFamily.modelKey(forGGUFTensor: "output.weight", config: neox) == "lm_head.weight")
        #expect(GPTNeoXFamily.modelKey(forGGUFTensor: "blk.x.attn_qkv.bias", config: neox) == nil)
        #expect(GPTNeoXFamily.modelKey(forGGUFTensor: "blk.0.attn_q.weight", config: neox) == nil)
        #expect(GPT2Family.modelKey(forGGUFTensor: "position_embd.weight", config: GPT2Config()) == "transformer.wpe.weight")
        #expect(GPT2Family.modelKey(forGGUFTensor: "blk.11.ffn_down.weight", config: GPT2Config()) == "transformer.h.11.mlp.c_proj.weight")
    }
}

/// Whether two configurations are of one type and equal (every family's config is `Equatable`).
func sameConfig(_ a: any ModelConfig, _ b: any ModelConfig) -> Bool {
    guard let a = a as? any Equatable else { return false }
    return a.isEqual(toAny: b)
}

extension Equatable {
    fileprivate func isEqual(toAny other: Any) -> Bool { (other as? Self) == self }
}
