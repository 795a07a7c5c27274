import Testing
import NNsightTorch
@testable import NNsight

/// The README's examples, run on the default model, so the documentation stays true.
@Suite(.serialized)
struct ReadmeExampleTests {
    @Test func testReadmeExamplesRun() throws {
        let model = try SmolLM.model()
        let hidden = try model.trace("The capital of France is") { m in try m.model.layers[-1].output }
        #expect(hidden.shape == [1, 5, 576])

        var patched: Tensor!
        try model.trace { t in
            var rome: Tensor!
            try t.invoke("The capital of Italy is") { m in rome = try m.model.layers[25].output[.all, -1].clone() }
            try t.invoke("The capital of France is") { m in
                try m.model.layers[25].output[.all, -1] = rome
                patched = try m.lm_head.output[0, -1]
            }
        }
        #expect(try patched.argmax().item(Int.self) == 7268)   // " Rome"

        let lens = try model.trace("The capital of France is") { m in
            try m.lm_head(try m.model.norm(try m.model.layers[20].output))
        }
        #expect(lens.shape == [1, 5, 49152])

        let ids = try model.generate("The capital of France is", maxNewTokens: 5) { m, t in
            for _ in t.all() { try m.model.layers[3].mlp.output[.all] = 0 }
            return try t.result()
        }
        #expect(try ids.size(1) <= 10)
        // The ablation reached every step: the model continued with a zero MLP output, and its
        // logits differ from the clean run's at each step.
        let (zeroed, ablatedLogits) = try model.generate("The capital of France is", maxNewTokens: 3, stopAtEOS: false) { m, t in
            var zeroed: [Bool] = [], logits: [Tensor] = []
            for _ in t.all() {
                try m.model.layers[3].mlp.output[.all] = 0
                zeroed.append(try m.model.layers[3].mlp.output.abs().sum().item(Float.self) == 0)
                logits.append(try m.lm_head.output[0, -1])
            }
            return (zeroed, logits)
        }
        let cleanLogits = try model.generate("The capital of France is", maxNewTokens: 3, stopAtEOS: false) { m, t in
            try t.all().map { _ in try m.lm_head.output[0, -1] }
        }
        #expect(zeroed == [true, true, true])
        #expect(ablatedLogits.count == 3 && cleanLogits.count == 3)
        for (ablated, clean) in zip(ablatedLogits, cleanLogits) { #expect(try maxAbsDifference(ablated, clean) > 1e-3) }

        let cache = try model.trace("Hello") { m, t in try t.cache() }
        #expect(try cache["model.model.layers.0"].output.shape == [1, 1, 576])

        let shape = try model.scan("Hello") { m in try m.lm_head.output.shape }
        #expect(shape == [1, 1, 49152])

        let ablated = model.edit { m in try m.model.layers[3].mlp.output[.all] = 0 }
        #expect(ablated.edits.count == 1 && model.edits.count == 0)
        // The edit applies to every trace of the handle, and only to it.
        func layer3MLP(_ handle: LanguageModel) throws -> (mlp: Tensor, logits: Tensor) {
            try handle.trace("The capital of France is") { m in
                (try m.model.layers[3].mlp.output, try m.lm_head.output[0, -1])
            }
        }
        let edited = try layer3MLP(ablated), original = try layer3MLP(model)
        #expect(try edited.mlp.abs().sum().item(Float.self) == 0)
        #expect(try original.mlp.abs().sum().item(Float.self) > 0)
        #expect(try maxAbsDifference(edited.logits, original.logits) > 1e-3)

        let skipped = try model.trace("Hello") { m in
            try m.model.layers[10].skip(try m.model.layers[10].input)
            return try m.model.layers[10].output
        }
        let layer9 = try model.trace("Hello") { m in try m.model.layers[9].output }
        #expect(try skipped.equal(layer9))

        let early = try model.trace("Hello") { m, t -> Tensor in
            try t.stop(returning: try m.model.layers[2].output)
        }
        #expect(early.shape == [1, 1, 576])

        let gradient = try model.trace("Hello") { m in
            let hidden = try m.model.layers[-1].output.requiresGrad_()
            try m.lm_head.output.sum().backward { g in
                try g.setGrad(of: hidden, try g.grad(of: hidden) * 0)
            }
            return hidden.grad
        }
        #expect(try #require(gradient).abs().sum().item(Float.self) == 0)
    }
}
