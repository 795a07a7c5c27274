import Foundation
import NNsightModels
import NNsightTorch
import Testing
@testable import NNsight

/// One logit-lens and patching script, written once against the standard names (`layers`,
/// `self_attn`, `mlp`, `ln_final`, `lm_head`, `embed_tokens`), run unchanged on every tiny
/// fixture family through the registry's rename preset.
@Suite struct StandardNamesTests {
    static let modelsRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/models")
    static let fixtures = ["tiny-gpt2", "tiny-llama", "tiny-llama3", "tiny-qwen2", "tiny-mistral", "tiny-gpt-neox", "tiny-gemma2", "tiny-gemma", "tiny-qwen3", "tiny-olmo2", "tiny-phi3", "tiny-mixtral", "tiny-gemma3", "tiny-qwen3-moe",
                           "tiny-gptj", "tiny-opt", "tiny-opt-350m"]

    struct ScriptResult {
        var embedding: Tensor
        var attention: Tensor
        var mlp: Tensor
        var lastLayer: Tensor
        var lens: Tensor
        var logits: Tensor
        var patchedLogits: Tensor
    }

    /// The script: read every standard module in execution order, apply the logit lens to the
    /// last layer by hand, and patch the last layer's last position from one prompt into another.
    static func script(_ model: LanguageModel) throws -> ScriptResult {
        var result: ScriptResult?
        var patchedLogits: Tensor?
        try model.trace { t in
            var patch: Tensor?
            try t.invoke("The capital of France is") { m in
                let embedding = try m.embed_tokens.output
                let attention = try m.layers[0].self_attn.output
                let mlp = try m.layers[0].mlp.output
                let lastLayer = try m.layers[-1].output
                patch = lastLayer[.all, -1]
                let lens = try m.lm_head(m.ln_final(lastLayer))
                let logits = try m.lm_head.output
                result = ScriptResult(embedding: embedding, attention: attention, mlp: mlp, lastLayer: lastLayer,
                                      lens: lens, logits: logits, patchedLogits: logits)
            }
            try t.invoke("Hello world") { m in
                try m.layers[-1].output[.all, -1] = patch!
                patchedLogits = try m.lm_head.output[.all, -1]
            }
        }
        var finished = try #require(result)
        finished.patchedLogits = try #require(patchedLogits)
        return finished
    }

    @Test(arguments: fixtures)
    func oneScriptRunsOnEveryFamily(name: String) throws {
        try Torch.setNumThreads(1)
        let path = Self.modelsRoot.appendingPathComponent(name).path
        let names = try Checkpoint(path: path).standardNames
        let model = try LanguageModel(path: path, rename: names.rename)
        let result = try Self.script(model)

        let sequence = try result.logits.size(1), hidden = try result.embedding.size(-1)
        for tensor in [result.attention, result.mlp, result.lastLayer] {
            #expect(tensor.shape == [1, sequence, hidden], "\(name)")
        }
        // The lens through ln_final and lm_head reproduces the model's own logits at the last
        // layer: both names reach the modules the model itself uses.
        #expect(try maxAbsDifference(result.lens, result.logits) < 1e-5, "\(name)")
        // The second prompt, with the first prompt's last-layer state patched in at its last
        // position, predicts exactly what the first prompt does there.
        #expect(try maxAbsDifference(result.patchedLogits, result.logits.select(dim: 1, index: -1)) < 1e-5, "\(name)")

        // The original paths still work and reach the same modules.
        let original = try model.trace("The capital of France is") { m in
            (try m.get(names.embedTokens).output, try m.get("\(names.layers).0.\(names.mlp)").output,
             try m.get(names.layers)[-1].output)
        }
        // The script's trace is a padded batch of two prompts and this one a batch of one: a
        // matrix product with bias may round differently with the batch size on some CPUs
        // (seen: 1.3e-5 on GPT-NeoX, GPT-J and OPT), while another module's output would be
        // off by the size of the activations.
        #expect(try original.0.equal(result.embedding), "\(name)")
        #expect(try maxAbsDifference(original.1, result.mlp) < 1e-4, "\(name)")
        #expect(try maxAbsDifference(original.2, result.lastLayer) < 1e-4, "\(name)")
    }
}
