import Foundation
import NNsightNN
import NNsightSafeTensors
import NNsightTorch
import Testing
@testable import NNsightModels

/// What the shared tiny-model tests (which run tiny-opt and tiny-opt-350m against transformers)
/// do not reach on OPT: its config checks, the hub's `decoder.…` keys, position ids from the
/// mask, and the standard names of OPT-350m's shape.
extension LoadingTests {
    static var opt: [String: Any] { ["model_type": "opt", "vocab_size": 64, "hidden_size": 32, "num_hidden_layers": 1,
                                     "ffn_dim": 64, "num_attention_heads": 2, "max_position_embeddings": 32,
                                     "pad_token_id": 1] }

    @Test func optConfigNamesTheBadField() throws {
        #expect(try refused(Self.opt, [:]) == nil)
        #expect(try refused(Self.opt, ["do_layer_norm_before": false, "word_embed_proj_dim": 16]) == nil)
        let optCases: [([String: Any], String)] = [
            (["ffn_dim": 0], "ffn_dim"),
            (["hidden_size": 31], "hidden_size"),
            (["word_embed_proj_dim": 0], "word_embed_proj_dim"),
            (["layer_norm_elementwise_affine": false], "layer_norm_elementwise_affine"),
            (["activation_function": "tanh"], "activation_function"),
            (["pad_token_id": 64], "pad_token_id"),
            (["dropout": -0.1], "dropout"),
        ]
        for (changes, field) in optCases { #expect(try refused(Self.opt, changes) == field, "\(changes)") }
        var noFFN = Self.opt
        noFFN["ffn_dim"] = nil
        #expect(try refused(noFFN, [:]) == "ffn_dim")
    }

    /// The hub's OPT checkpoints were saved from `OPTModel` (keys `decoder.…`, no `lm_head`):
    /// read as `model.decoder.…`, with the head tied.
    @Test func optReadsTheHubsDecoderKeys() throws {
        try Torch.setNumThreads(1)
        let folder = try scratchCopy(of: "tiny-opt")
        defer { try? FileManager.default.removeItem(at: folder) }
        try editWeights(folder) { tensors in
            for (name, tensor) in tensors where name.hasPrefix("model.") {
                tensors[name] = nil
                tensors[String(name.dropFirst("model.".count))] = tensor
            }
        }
        let single = Fixtures.model("tiny-opt").single[2]
        let model = try NNsightModels.load(path: folder.path).model
        #expect(try maxAbsDifference(logits(model, single.input_ids), single.logits.tensor()) <= 1e-4)
    }

    /// OPT counts positions from the attention mask: each real token's count of real tokens
    /// before it, -1 (table row 1) at padding; a decoding step reads the mask's last columns.
    @Test func optPositionsFollowTheMask() throws {
        let mask = try idsTensor([[0, 0, 1, 1, 1], [1, 1, 0, 1, 1]])
        let all = try rows(optPositionIds(queries: 5, past: 0, batch: 2, attentionMask: mask, device: .cpu))
        #expect(all == [[-1, -1, 0, 1, 2], [0, 1, -1, 2, 3]])
        let step = try rows(optPositionIds(queries: 1, past: 4, batch: 2, attentionMask: mask, device: .cpu))
        #expect(step == [[2], [3]])
        #expect(try rows(optPositionIds(queries: 2, past: 3, batch: 1, attentionMask: nil, device: .cpu)) == [[3, 4]])

        // And a padded row's real tokens see what the unpadded prompt sees: the shared tests check
        // the last position; here every real position of the longest-padded row.
        try Torch.setNumThreads(1)
        let model = try NNsightModels.load(path: Fixtures.path("tiny-opt")).model
        let batch = Fixtures.model("tiny-opt").batch
        let padded = try Torch.noGrad {
            var context = ForwardContext()
            context.attentionMask = try idsTensor(batch.attention_mask)
            return try model(idsTensor(batch.input_ids), context)
        }
        let row = batch.attention_mask.indices.max { batch.attention_mask[$0].count(of: 0) < batch.attention_mask[$1].count(of: 0) }!
        let real = batch.attention_mask[row].count(of: 1), width = batch.input_ids[row].count
        let alone = try logits(model, Array(batch.input_ids[row].suffix(real)))
        #expect(try maxAbsDifference(padded.select(dim: 0, index: row).narrow(dim: 0, start: width - real, length: real), alone) <= 1e-4)
    }

    /// OPT-350m's shape answers to the standard names through `project_in` (the residual
    /// stream's start) and `project_out` (what feeds `lm_head`), and passes nnterp's check.
    @Test func optStandardNamesFollowTheConfig() throws {
        #expect(OPTFamily.standardNames.rename == [
            "model.decoder.layers": "layers", "fc2": "mlp", "model.decoder.final_layer_norm": "ln_final",
            "model.decoder.embed_tokens": "embed_tokens",
        ])
        let projected = try Checkpoint(path: Fixtures.path("tiny-opt-350m"))
        #expect(projected.standardNames.embedTokens == "model.decoder.project_in")
        #expect(projected.standardNames.finalNorm == "model.decoder.project_out")
        #expect(try Checkpoint(path: Fixtures.path("tiny-opt")).standardNames == OPTFamily.standardNames)
    }
}

private extension Array where Element == Int {
    func count(of value: Int) -> Int { filter { $0 == value }.count }
}
