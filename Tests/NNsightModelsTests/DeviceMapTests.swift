import Foundation
import Testing
import NNsightNN
import NNsightTorch
@testable import NNsightModels

/// `device_map` planning on real model shapes (built on the meta device: nothing allocated) and
/// its application on the devices every machine has.
struct DeviceMapTests {
    static let gib = 1 << 30

    /// Llama-3-70B's config.json (the real sizes), built on the meta device.
    func llama70B() throws -> (model: any CausalLanguageModel, names: StandardNames) {
        let config = """
        {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 8192,
         "intermediate_size": 28672, "num_hidden_layers": 80, "num_attention_heads": 64,
         "num_key_value_heads": 8, "vocab_size": 128256, "max_position_embeddings": 8192,
         "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "tie_word_embeddings": false,
         "bos_token_id": 128000, "eos_token_id": 128001}
        """
        let configuration = try ModelConfiguration(configData: Data(config.utf8))
        return (try configuration.makeModel(device: .meta), configuration.family.standardNames)
    }

    @Test func llama70BInBFloat16FillsTwoGPUsInOrder() throws {
        let (model, names) = try llama70B()
        let budgets = [DeviceBudget(.cuda(0), bytes: 80 * Self.gib), DeviceBudget(.cuda(1), bytes: 80 * Self.gib)]
        let map = try DeviceMap.auto(for: model, names: names, dtype: .bfloat16, budgets: budgets)
        // Llama-3-70B has 70,553,706,496 parameters (its model card), 2 bytes each.
        #expect(map.entries.reduce(0) { $0 + $1.bytes } == 70_553_706_496 * 2)
        // One layer by hand: q and o 8192², k and v 8192×1024, three MLP matrices 8192×28672, two norms.
        let layerBytes = (2 * 8192 * 8192 + 2 * 8192 * 1024 + 3 * 8192 * 28672 + 2 * 8192) * 2
        let embeddingBytes = 128256 * 8192 * 2
        let layersOnFirst = (80 * Self.gib - embeddingBytes) / layerBytes
        #expect(map.device(of: "model.embed_tokens.weight") == .cuda(0))
        for layer in 0..<80 {
            #expect(map.device(of: "model.layers.\(layer).mlp.up_proj.weight") == (layer < layersOnFirst ? .cuda(0) : .cuda(1)))
        }
        #expect(map.device(of: "model.norm") == .cuda(1))
        #expect(map.device(of: "lm_head.weight") == .cuda(1))
        for budget in budgets { #expect(map.plannedBytes(on: budget.device) <= budget.bytes) }
    }

    @Test func aModelTooLargeForTheBudgetsNamesThePartThatDoesNotFit() throws {
        let (model, names) = try llama70B()
        let budgets = [DeviceBudget(.cuda(0), bytes: 40 * Self.gib), DeviceBudget(.cuda(1), bytes: 40 * Self.gib)]
        let error = try #require(throws: DeviceMapError.self) {
            try DeviceMap.auto(for: model, names: names, dtype: .bfloat16, budgets: budgets)
        }
        guard case .doesNotFit(let module, _, let remaining) = error else { Issue.record("\(error)"); return }
        #expect(module.hasPrefix("model.layers."))
        #expect(remaining.map(\.device) == [.cuda(1)])
        #expect(throws: DeviceMapError.noDevices) { try DeviceMap.auto(for: model, names: names, dtype: .bfloat16, budgets: []) }
    }

    @Test func aTiedHeadStaysWithTheEmbeddings() throws {
        let configuration = try ModelConfiguration(configData: Data("""
            {"model_type": "gpt2", "n_embd": 768, "n_layer": 12, "n_head": 12, "vocab_size": 50257, "n_positions": 1024}
            """.utf8))
        let model = try configuration.makeModel(device: .meta), names = configuration.family.standardNames
        let map = try DeviceMap.auto(for: model, names: names, dtype: .float32,
                                     budgets: [DeviceBudget(.cuda(0), bytes: 300 << 20), DeviceBudget(.cuda(1), bytes: 300 << 20)])
        // GPT-2 small: 124,439,808 parameters (the tied head counted once).
        #expect(map.entries.reduce(0) { $0 + $1.bytes } == 124_439_808 * 4)
        #expect(map.device(of: "lm_head") == .cuda(0))
        #expect(map.device(of: "transformer.ln_f") == .cuda(1))
        #expect(map.device(of: "transformer.h.0") == .cuda(0) && map.device(of: "transformer.h.11") == .cuda(1))
    }
}
