import Foundation
import NNsightNN
import NNsightTorch
import Testing
@testable import NNsightModels

/// What the shared tiny-model tests do not reach on Phi-3: the sliding window and partial rotary
/// each change the logits (so the fixture exercises them), and long-context RoPE is refused by name.
extension LoadingTests {
    @Test func phi3SlidingWindowAndPartialRotaryMatter() throws {
        try Torch.setNumThreads(1)
        let expected = Fixtures.model("tiny-phi3")
        let window = try #require(expected.config["sliding_window"]?.int)
        let single = try #require(expected.single.first { $0.input_ids.count > window })
        let ids = try idsTensor([single.input_ids])
        let reference = try single.logits.tensor()
        let logits = try Torch.noGrad { try NNsightModels.load(path: Fixtures.path("tiny-phi3")).model(ids, ForwardContext()) }
        #expect(try maxAbsDifference(logits.squeeze(dim: 0), reference) <= 1e-4)

        for edit in [{ (config: inout [String: Any]) in config["sliding_window"] = NSNull() },
                     { (config: inout [String: Any]) in
                         config["rope_parameters"] = ["rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 1.0]
                     }] {
            let folder = try scratchCopy(of: "tiny-phi3")
            defer { try? FileManager.default.removeItem(at: folder) }
            try editConfig(folder, edit)
            let changed = try Torch.noGrad { try NNsightModels.load(path: folder.path).model(ids, ForwardContext()) }
            #expect(try maxAbsDifference(changed.squeeze(dim: 0), reference) > 0.1)
        }
    }

    @Test func phi3RefusesLongRopeByName() throws {
        let json: [String: Any] = [
            "model_type": "phi3", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "rope_scaling": ["type": "longrope", "short_factor": [1.0], "long_factor": [1.0]],
        ]
        #expect(throws: ModelError.invalidConfig(field: "rope_scaling.rope_type", reason: "unsupported value \"longrope\"")) {
            try ModelConfiguration(configData: JSONSerialization.data(withJSONObject: json))
        }
        var odd = json
        odd["rope_scaling"] = nil
        odd["partial_rotary_factor"] = 0.1   // 1.6 of 16 features
        #expect(throws: ModelError.self) { try ModelConfiguration(configData: JSONSerialization.data(withJSONObject: odd)) }
    }
}
