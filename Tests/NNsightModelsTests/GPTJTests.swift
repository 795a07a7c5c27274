import Foundation
import NNsightNN
import NNsightSafeTensors
import NNsightTorch
import Testing
@testable import NNsightModels

/// What the shared tiny-model tests (which run tiny-gptj against transformers) do not reach on
/// GPT-J: its config checks, the interleaved rotary layout, the hub's mask buffers.
extension LoadingTests {
    static var gptj: [String: Any] { ["model_type": "gptj", "vocab_size": 64, "n_embd": 32, "n_layer": 1, "n_head": 2,
                                      "rotary_dim": 8, "n_positions": 32] }

    /// The field a config made of `base` with `changes` is refused for (nil: accepted).
    func refused(_ base: [String: Any], _ changes: [String: Any]) throws -> String? {
        do {
            _ = try makeModel(configData: JSONSerialization.data(withJSONObject: base.merging(changes) { $1 }))
            return nil
        } catch ModelError.invalidConfig(let field, _) {
            return field
        }
    }

    @Test func gptjConfigNamesTheBadField() throws {
        #expect(try refused(Self.gptj, [:]) == nil)
        let gptjCases: [([String: Any], String)] = [
            (["rotary_dim": 7], "rotary_dim"),
            (["rotary_dim": 32], "rotary_dim"),          // wider than a head (16)
            (["rotary_dim": NSNull()], "rotary_dim"),
            (["n_head": 3], "n_embd"),
            (["n_layer": 0], "n_layer"),
            (["n_inner": -1], "n_inner"),
            (["activation_function": "swish"], "activation_function"),
            (["resid_pdrop": 2], "resid_pdrop"),
        ]
        for (changes, field) in gptjCases { #expect(try refused(Self.gptj, changes) == field, "\(changes)") }
        var missing = Self.gptj
        missing["n_embd"] = nil
        #expect(try refused(missing, [:]) == "n_embd")
        #expect(GPTJFamily.standardNames.rename == [
            "transformer.h": "layers", "attn": "self_attn", "transformer.ln_f": "ln_final", "transformer.wte": "embed_tokens",
        ])
    }

    /// GPT-J's rotary pairs features (0, 1), (2, 3), … of the rotated part, each pair turned by
    /// its own angle: checked against the rotation written out per pair.
    @Test func gptjRotatesInterleavedPairs() throws {
        let rotary = try RotaryEmbedding(dimension: 4, theta: 10000, classPrefix: "GPTJ")
        let positions = try Tensor([0, 3], shape: [1, 2])
        let tables = try rotary.tables(positions, dtype: .float32, context: ForwardContext())
        let values: [Float] = (0..<12).map { Float($0) * 0.25 - 1 }       // [1, 1, 2, 6]: 4 rotated, 2 passed
        let x = try Tensor(values, shape: [1, 1, 2, 6])
        let rotated = try applyInterleavedRotary(x, tables).contiguous().toArray(Float.self)
        for (row, position) in [0, 3].enumerated() {
            for pair in 0..<2 {
                let angle = Double(position) / pow(10000, Double(2 * pair) / 4)
                let a = Double(values[row * 6 + 2 * pair]), b = Double(values[row * 6 + 2 * pair + 1])
                #expect(abs(Double(rotated[row * 6 + 2 * pair]) - (a * cos(angle) - b * sin(angle))) < 1e-5)
                #expect(abs(Double(rotated[row * 6 + 2 * pair + 1]) - (b * cos(angle) + a * sin(angle))) < 1e-5)
            }
            #expect(rotated[row * 6 + 4] == values[row * 6 + 4])
            #expect(rotated[row * 6 + 5] == values[row * 6 + 5])
        }
    }

    /// Hub GPT-J checkpoints carry each attention's causal-mask buffers (`attn.bias`,
    /// `attn.masked_bias`); they are skipped and the logits stay transformers'.
    @Test func gptjSkipsTheHubsMaskBuffers() throws {
        try Torch.setNumThreads(1)
        let folder = try scratchCopy(of: "tiny-gptj")
        defer { try? FileManager.default.removeItem(at: folder) }
        try editWeights(folder) { tensors in
            for layer in 0..<2 {
                tensors["transformer.h.\(layer).attn.bias"] = (.bool, [1, 1, 4, 4], Data(repeating: 1, count: 16))
                tensors["transformer.h.\(layer).attn.masked_bias"] = (.float32, [], Data(count: 4))
            }
        }
        let single = Fixtures.model("tiny-gptj").single[1]
        let model = try NNsightModels.load(path: folder.path).model
        #expect(try maxAbsDifference(logits(model, single.input_ids), single.logits.tensor()) <= 1e-4)
    }
}
