import Foundation
import NNsightNN
import NNsightTorch
import Testing
@testable import NNsightModels

/// What the shared tiny-model tests do not reach on GPT-NeoX: the sequential residual path
/// (`use_parallel_residual: false`), against transformers on tiny-gpt-neox's own weights.
extension LoadingTests {
    struct NeoXSequential: Decodable {
        let input_ids: [Int]
        let logits: Fixtures.StoredArray
    }

    @Test func gptNeoXSequentialResidualMatchesTransformers() throws {
        try Torch.setNumThreads(1)
        struct Entry: Decodable {
            let sequential: NeoXSequential
            enum CodingKeys: String, CodingKey { case sequential = "tiny-gpt-neox-sequential" }
        }
        let entry = try JSONDecoder().decode(Entry.self, from: Data(contentsOf: Fixtures.root.appendingPathComponent("expected.json")))
        let ids = try idsTensor([entry.sequential.input_ids])
        let reference = try entry.sequential.logits.tensor()

        let folder = try scratchCopy(of: "tiny-gpt-neox")
        defer { try? FileManager.default.removeItem(at: folder) }
        try editConfig(folder) { $0["use_parallel_residual"] = false }
        let sequential = try #require(try NNsightModels.load(path: folder.path).model as? GPTNeoXForCausalLM)
        #expect(!sequential.config.useParallelResidual)
        let logits = try Torch.noGrad { try sequential(ids, ForwardContext()) }.squeeze(dim: 0)
        #expect(try maxAbsDifference(logits, reference) <= 1e-4)

        // The parallel model (the fixture as saved) differs: the path matters.
        let parallel = try NNsightModels.load(path: Fixtures.path("tiny-gpt-neox")).model
        let parallelLogits = try Torch.noGrad { try parallel(ids, ForwardContext()) }.squeeze(dim: 0)
        #expect(try maxAbsDifference(parallelLogits, reference) > 0.1)
    }

    /// Hub Pythia configs predate `rope_parameters`: `rotary_pct` and `rotary_emb_base`.
    @Test func gptNeoXReadsTheHubsRotaryFields() throws {
        let json: [String: Any] = ["model_type": "gpt_neox", "vocab_size": 64, "hidden_size": 32, "num_hidden_layers": 1,
                                   "num_attention_heads": 2, "intermediate_size": 64, "rotary_pct": 0.5,
                                   "rotary_emb_base": 500.0]
        let configuration = try ModelConfiguration(configData: JSONSerialization.data(withJSONObject: json))
        let config = try #require(configuration.config as? GPTNeoXConfig)
        #expect(config.partialRotaryFactor == 0.5)
        #expect(config.ropeTheta == 500)
        #expect(config.rotaryDimensions == 8)
        var odd = json
        odd["rotary_pct"] = 0.05   // 0.8 of 16 features: none rotated
        #expect(throws: ModelError.self) { try ModelConfiguration(configData: JSONSerialization.data(withJSONObject: odd)) }
    }
}
