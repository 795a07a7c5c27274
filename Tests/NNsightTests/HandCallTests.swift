import Testing
import NNsightNN
import NNsightTorch
@testable import NNsight

/// Calling an envoy by hand inside a trace: the trace stands down for the call, so the call
/// changes neither which calls later requests address (of the module or anything under it) nor
/// what other invokes are served.
struct HandCallTests {
    let prompt = "The capital of France is"

    /// The clean values of block 0, its MLP, and the last logits.
    func clean(_ model: LanguageModel) throws -> (block: Tensor, mlp: Tensor, logits: Tensor) {
        try model.trace(prompt) { m in
            let mlp = try m.transformer.h[0].mlp.output
            return (try m.transformer.h[0].output, mlp, try m.lm_head.output)
        }
    }

    @Test func testCallingABlockByHandKeepsLaterRequestsOnTheRealCall() throws {
        let model = try tinyGPT2()
        let reference = try clean(model)
        let (byHand, mlp, block, logits) = try model.trace(prompt) { m in
            let (input, context) = try m.transformer.h[0].inputs
            let byHand = try m.transformer.h[0](input, context)
            return (byHand, try m.transformer.h[0].mlp.output, try m.transformer.h[0].output, try m.lm_head.output)
        }
        #expect(try byHand.equal(reference.block))
        #expect(try mlp.equal(reference.mlp))
        #expect(try block.equal(reference.block))
        #expect(try logits.equal(reference.logits))
        #expect(model.network.namedModules().allSatisfy { $0.module.hookCount == 0 })
    }

    @Test func testCallByHandServesNoOtherInvoke() throws {
        let model = try tinyGPT2()
        let reference = try clean(model)
        var mlpSeenByB: Tensor!, doubled: Tensor!
        try model.trace { t in
            try t.invoke(prompt) { m in
                let (input, context) = try m.transformer.h[0].inputs
                doubled = try m.transformer.h[0](try input * 2, context)
            }
            try t.invoke(prompt) { m in mlpSeenByB = try m.transformer.h[0].mlp.output }
        }
        #expect(try mlpSeenByB.equal(reference.mlp))
        #expect(try !doubled.equal(reference.block))
    }

    @Test func testCallByHandDuringGenerationKeepsTheStepsInOrder() throws {
        let model = try tinyGPT2()
        let expected = try model.generate(prompt, maxNewTokens: 3, stopAtEOS: false) { m, t in
            try t.all().map { _ in try m.transformer.h[1].mlp.output[0, -1] }
        }
        let seen = try model.generate(prompt, maxNewTokens: 3, stopAtEOS: false) { m, t in
            try t.all().map { _ in
                let hidden = try m.transformer.h[0].output
                _ = try m.transformer.ln_f(hidden)
                _ = try m.transformer.h[1].mlp(hidden)
                return try m.transformer.h[1].mlp.output[0, -1]
            }
        }
        #expect(seen.count == 3)
        for (a, b) in zip(seen, expected) { #expect(try a.equal(b)) }
    }
}
