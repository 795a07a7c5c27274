import Foundation
import NNsightTorch
import Testing
@testable import NNsight

/// The attention internals every family's marked attention exposes through `.source`: per-head
/// query/key/value, scores, pattern and weighted values; the explicit path they need against the
/// fused kernel, and the pattern against transformers' eager attention (`output_attentions=True`,
/// scripts/fixtures/gen_source.py).
struct AttentionInternalsTests {
    static let families = ["tiny-gpt2", "tiny-llama", "tiny-llama3", "tiny-qwen2", "tiny-mistral", "tiny-gpt-neox",
                           "tiny-gemma", "tiny-gemma2", "tiny-qwen3", "tiny-olmo2", "tiny-phi3", "tiny-mixtral", "tiny-gemma3", "tiny-qwen3-moe",
                           "tiny-gptj", "tiny-opt", "tiny-opt-350m"]

    func load(_ name: String) throws -> LanguageModel {
        try Torch.setNumThreads(1)
        return try LanguageModel(path: LMFixtures.fixtures.appendingPathComponent("models/\(name)").path)
    }

    /// The attention module of layer `layer`, by family.
    func attention(_ m: Envoy, _ name: String, _ layer: Int) throws -> Envoy {
        switch name {
        case "tiny-gpt2", "tiny-gptj": try m.transformer.h[layer].attn
        case "tiny-opt", "tiny-opt-350m": try m.model.decoder.layers[layer].self_attn
        case "tiny-gpt-neox": try m.gpt_neox.layers[layer].attention
        default: try m.model.layers[layer].self_attn
        }
    }

    func layerCount(_ name: String) -> Int {
        (SourceFixtures.value(SourceFixtures.attention, ["models", name, "attentions"]) as! [Any]).count
    }

    func rows(_ name: String) -> [[Int]] {
        (SourceFixtures.value(SourceFixtures.attention, ["models", name, "rows"]) as! [[NSNumber]]).map { $0.map(\.intValue) }
    }

    @Test(arguments: families)
    func patternMatchesTransformersEager(_ name: String) throws {
        let model = try load(name)
        let rows = rows(name)
        let patterns = try model.trace(rows) { m in
            try (0..<layerCount(name)).map { try attention(m, name, $0).source.pattern_0.output }
        }
        let width = rows.map(\.count).max()!
        for (layer, pattern) in patterns.enumerated() {
            let expected = try SourceFixtures.tensor(SourceFixtures.attention, ["models", name, "attentions", layer])
            #expect(pattern.shape == expected.shape)
            // Rows of real query tokens (transformers spreads a padded query row over every key).
            for (row, tokens) in rows.enumerated() {
                let start = width - tokens.count
                let ours = pattern[row, .all, start...]
                let theirs = expected[row, .all, start...]
                #expect(try maxAbsDifference(ours, theirs) < 1e-5, "\(name) layer \(layer) row \(row)")
            }
        }
    }

    @Test(arguments: families)
    func fusedAndExplicitPathsAgree(_ name: String) throws {
        let model = try load(name)
        let rows = rows(name)
        let fused = try model.trace(rows) { m in try m.output }
        let (explicit, weighted, attended) = try model.trace(rows) { m in
            var last: (Tensor, Tensor)!
            for layer in 0..<layerCount(name) {
                let source = try attention(m, name, layer).source
                last = (try source.weighted_0.output, try source.attended_0.output)
            }
            return (try m.output, last.0, last.1)
        }
        #expect(try weighted.equal(attended))
        let gap = try maxAbsDifference(fused, explicit)
        let scale = try fused.abs().max().item(Float.self)
        // Within 1e-5 of the logits' scale where that exceeds 1: fp32 rounding grows with the values
        // (Gemma multiplies its embeddings by √hidden; tiny-gemma's logits reach about 13, where the paths differ by 1.3e-5).
        #expect(gap < 1e-5 * max(1, scale), "\(name): \(gap) on logits up to \(scale)")
    }

    @Test(arguments: families)
    func patternShapeRowsAndMasks(_ name: String) throws {
        let model = try load(name)
        let rows = rows(name)
        let (query, key, value, pattern) = try model.trace(rows) { m in
            let source = try attention(m, name, 0).source
            return (try source.query_0.output, try source.key_0.output, try source.value_0.output, try source.pattern_0.output)
        }
        let width = rows.map(\.count).max()!
        #expect(pattern.shape[0] == 2 && pattern.shape[2] == width && pattern.shape[3] == width)
        #expect(pattern.shape[1] == query.shape[1])
        #expect(key.shape[2] == width && value.shape[2] == width)
        let sums = try pattern.sum(dim: -1)
        #expect(try maxAbsDifference(sums, Tensor.ones(sums.shape)) < 1e-5)
        // Causal: no query attends to a later key.
        let upper = try Tensor.ones([width, width]).triu(1).to(.bool)
        #expect(try pattern.maskedFill(upper.logicalNot(), 0).abs().sum().item(Float.self) == 0)
        // Padding: row 1's real queries give the left-padded keys no weight.
        let padded = width - rows[1].count
        if padded > 0 {
            #expect(try pattern[1, .all, padded..., 0..<padded].abs().sum().item(Float.self) == 0)
        }
    }

    @Test(arguments: families)
    func writtenPatternChangesOutput(_ name: String) throws {
        let model = try load(name)
        let rows = [rows(name)[0]]
        let clean = try model.trace(rows) { m in try m.output }
        let rewritten = try model.trace(rows) { m in
            let source = try attention(m, name, 0).source
            let pattern = try source.pattern_0.output
            try source.pattern_0.setOutput(pattern)                 // unchanged: same output
            return try m.output
        }
        #expect(try maxAbsDifference(clean, rewritten) < 1e-5)
        let uniform = try model.trace(rows) { m in
            let source = try attention(m, name, 0).source
            let pattern = try source.pattern_0.output
            let width = pattern.shape[3]
            let causal = try Tensor.ones([width, width]).tril()
            try source.pattern_0.setOutput((causal / causal.sum(dim: -1, keepDim: true)).expand(pattern.shape))
            return try m.output
        }
        #expect(try maxAbsDifference(clean, uniform) > 1e-3)
        // Writing the scores flows through the softmax: all-equal scores spread each query evenly
        // over the keys its mask allows (causal, and Mistral's window).
        let allowed = try model.trace(rows) { m in
            try attention(m, name, 0).source.pattern_0.output .!= 0
        }.to(.float32)
        let (pattern, fromScores) = try model.trace(rows) { m in
            let source = try attention(m, name, 0).source
            let scores = try source.scores_0.output
            try source.scores_0.setOutput(Tensor.zeros(scores.shape))
            return (try source.pattern_0.output, try m.output)
        }
        #expect(try maxAbsDifference(clean, fromScores) > 1e-3)
        #expect(try maxAbsDifference(pattern, allowed / allowed.sum(dim: -1, keepDim: true)) < 1e-6)
    }
}
