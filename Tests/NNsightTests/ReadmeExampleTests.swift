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
            t.invoke("The capital of Italy is") { m in rome = try m.model.layers[25].output[.all, -1].clone() }
            t.invoke("The capital of France is") { m in
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

        let cache = try model.trace("Hello") { m, t in try t.cache() }
        #expect(try cache["model.model.layers.0"].output.shape == [1, 1, 576])

        let shape = try model.scan("Hello") { m in try m.lm_head.output.shape }
        #expect(shape == [1, 1, 49152])

        let ablated = model.edit { m in try m.model.layers[3].mlp.output[.all] = 0 }
        #expect(ablated.edits.count == 1 && model.edits.count == 0)

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
