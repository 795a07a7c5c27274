import Foundation
import Testing
import NNsightTorch
@testable import NNsight

/// The default model (SmolLM2-135M-Instruct from its GGUF) against Python nnsight 0.8.1 on
/// transformers' loading of the same file.
@Suite(.serialized)
struct DefaultModelTests {
    let france = "The capital of France is"
    let italy = "The capital of Italy is"
    let paris = 7042, rome = 7268

    @Test func testCleanRunAnswersParis() throws {
        let logits = try SmolLM.model().trace(france) { m in try m.lm_head.output[0, -1] }
        let top5 = try logits.topk(5).indices.toArray(Int.self)
        #expect(top5 == LMFixtures.ints(["smollm2", "clean", "france", "top5_ids"]))
        #expect(try Swift.abs(logits[paris].item(Double.self) - LMFixtures.double(["smollm2", "clean", "france", "paris_logit"])) < 1e-3)
        #expect(try SmolLM.model().tokenizer.decode([top5[0]]) == " Paris")
    }

    @Test(arguments: [0, 22, 23, 29])
    func testActivationPatchingMovesFranceToRome(layer: Int) throws {
        var patched: Tensor!
        try SmolLM.model().trace { t in
            var hidden: Tensor!
            try t.invoke(italy) { m in hidden = try m.model.layers[layer].output[.all, -1].clone() }
            try t.invoke(france) { m in
                try m.model.layers[layer].output[.all, -1] = hidden
                patched = try m.lm_head.output[0, -1]
            }
        }
        let expected: [Any] = ["smollm2", "patching", "layers", layer]
        #expect(try Swift.abs(patched[paris].item(Double.self) - LMFixtures.double(expected + ["paris_logit"])) < 2e-3)
        #expect(try Swift.abs(patched[rome].item(Double.self) - LMFixtures.double(expected + ["rome_logit"])) < 2e-3)
        #expect(try patched.argmax().item(Int.self) == LMFixtures.int(expected + ["top1"]))
    }

    @Test func testLogitLens() throws {
        let lens = try SmolLM.model().trace(france) { m in
            try (0..<30).map { layer in try m.lm_head(try m.model.norm(try m.model.layers[layer].output))[0, -1] }
        }
        for (layer, logits) in lens.enumerated() {
            let expected: [Any] = ["smollm2", "logit_lens", "layers", layer]
            #expect(try logits.argmax().item(Int.self) == LMFixtures.int(expected + ["top1"]))
            #expect(try Swift.abs(logits[paris].item(Double.self) - LMFixtures.double(expected + ["paris_logit"])) < 2e-3)
        }
    }

    @Test(arguments: [0, 11, 29])
    func testMLPAblation(layer: Int) throws {
        let logits = try SmolLM.model().trace(france) { m in
            try m.model.layers[layer].mlp.output[.all] = 0
            return try m.lm_head.output[0, -1]
        }
        let expected: [Any] = ["smollm2", "mlp_ablation", "layers", layer]
        #expect(try Swift.abs(logits[paris].item(Double.self) - LMFixtures.double(expected + ["paris_logit"])) < 2e-3)
        #expect(try logits.argmax().item(Int.self) == LMFixtures.int(expected + ["top1"]))
    }
}
