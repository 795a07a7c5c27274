import Foundation
import Testing
import NNsightTorch
@testable import NNsight

/// Generation with interventions (nnsight's test_lm.py generation and iteration scenarios),
/// on the tiny GPT-2 checkpoint against transformers' greedy generations.
struct GenerationTests {
    let prompt = "The capital of France is"

    /// transformers' greedy new ids for a fixture prompt (tests/Fixtures/models/expected.json).
    func greedy(_ index: Int) throws -> [Int] {
        let data = try Data(contentsOf: LMFixtures.fixtures.appendingPathComponent("models/expected.json"))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let model = (json["models"] as! [String: Any])["tiny-gpt2"] as! [String: Any]
        return ((model["single"] as! [[String: Any]])[index]["greedy_new_ids"] as! [NSNumber]).map(\.intValue)
    }

    @Test func testBasicGeneration() throws {
        let model = try tinyGPT2()
        let ids = try model.generate(prompt, maxNewTokens: 12, stopAtEOS: false) { _, t in try t.result() }
        #expect(Array(try ids.toArray(Int.self).suffix(12)) == (try greedy(0)))
    }

    @Test func testSaveHiddenStatesAddressesThePrompt() throws {
        let model = try tinyGPT2()
        let hidden = try model.generate(prompt, maxNewTokens: 3) { m, _ in try m.transformer.h[-1].output }
        #expect(hidden.shape == [1, 9, 64])
    }

    @Test func testIterAllFollowsEveryStep() throws {
        let model = try tinyGPT2()
        let tokens = try model.generate(prompt, maxNewTokens: 12, stopAtEOS: false) { m, t in
            var tokens: [Int] = []
            for _ in t.all() { tokens.append(try m.lm_head.output[0, -1].argmax().item(Int.self)) }
            return tokens
        }
        #expect(tokens == (try greedy(0)))
    }

    @Test func testIterRangeAndList() throws {
        let model = try tinyGPT2()
        let expected = try greedy(0)
        let (range, list) = try model.generate(prompt, maxNewTokens: 6, stopAtEOS: false) { m, t in
            var range: [Int] = []
            for step in t.iter(1..<3) {
                #expect(step == range.count + 1)
                range.append(try m.lm_head.output[0, -1].argmax().item(Int.self))
            }
            var list: [Int] = []
            for _ in t.iter([4, 5]) { list.append(try m.lm_head.output[0, -1].argmax().item(Int.self)) }
            return (range, list)
        }
        #expect(range == Array(expected[1..<3]))
        #expect(list == Array(expected[4..<6]))
    }

    @Test func testNextStepsToTheFollowingStep() throws {
        let model = try tinyGPT2()
        let expected = try greedy(0)
        let (first, second) = try model.generate(prompt, maxNewTokens: 3, stopAtEOS: false) { m, t in
            let first = try m.lm_head.output[0, -1].argmax().item(Int.self)
            try t.next()
            return (first, try m.lm_head.output[0, -1].argmax().item(Int.self))
        }
        #expect([first, second] == Array(expected[0..<2]))
    }

    @Test func testTrailingCodeAfterOpenIterRunsAndModuleAccessThereIsOutOfOrder() throws {
        let model = try tinyGPT2()
        var steps = 0
        var trailingRan = false
        // After the loop the invoke addresses the last step (1), which has passed.
        #expect(throws: NNsightError.outOfOrder(requester: "model.lm_head.output.i1")) {
            try model.generate(prompt, maxNewTokens: 2, stopAtEOS: false) { m, t in
                for _ in t.all() { _ = try m.lm_head.output; steps += 1 }
                trailingRan = true
                _ = try m.lm_head.output
            }
        }
        #expect(steps == 2 && trailingRan)
    }

    @Test func testInterventionAtEveryStep() throws {
        let model = try tinyGPT2()
        let clean = try model.generate(prompt, maxNewTokens: 4, stopAtEOS: false) { _, t in try t.result() }
        let (ablated, zeroedSums) = try model.generate(prompt, maxNewTokens: 4, stopAtEOS: false) { m, t in
            var sums: [Float] = []
            for _ in t.all() {
                try m.transformer.h[0].output[.all] = 0
                sums.append(try m.transformer.h[0].output.abs().sum().item(Float.self))
            }
            return (try t.result(), sums)
        }
        #expect(zeroedSums == [0, 0, 0, 0])
        #expect(try !clean.equal(ablated))
    }

    @Test func testIterBatchedInvokesAreIndependent() throws {
        let model = try tinyGPT2()
        var a: [Int] = [], b: [Int] = []
        try model.generate(maxNewTokens: 3, stopAtEOS: false) { t in
            try t.invoke(prompt) { m in
                for _ in t.iter(1..<3) { a.append(try m.lm_head.output[0, -1].argmax().item(Int.self)) }
            }
            try t.invoke("Hello world") { m in
                for _ in t.all() { b.append(try m.lm_head.output[0, -1].argmax().item(Int.self)) }
            }
        }
        #expect(a == Array(try greedy(0)[1..<3]))
        #expect(b == Array(try greedy(1)[0..<3]))
    }

    @Test func testResultOfATraceIsTheLogits() throws {
        let model = try tinyGPT2()
        let (logits, result) = try model.trace(prompt) { m, t in (try m.lm_head.output, try t.result()) }
        #expect(try logits.equal(result))
    }

    @Test func testIterOverCallsInATrace() throws {
        let model = NNsightModel(RecurrentInner())
        let x = try Tensor.rand([1, 4])
        let outputs = try model.trace(x) { m, t in try t.iter(0..<3).map { _ in try m.linear.output } }
        let linear = model.module.linear
        #expect(try outputs[2].equal(try linear(try linear(try linear(x)))))
        #expect(throws: NNsightError.invalidInput("an open-ended iter needs generate(...); bound it, e.g. iter(0..<3)")) {
            try model.trace(x) { m, t in for _ in t.all() { _ = try m.linear.output } }
        }
    }

    @Test func testDefaultModelGeneratesParis() throws {
        let model = try SmolLM.model()
        let text = try model.generate("The capital of France is", maxNewTokens: 2) { _, t in
            model.tokenizer.decode(Array(try t.result().toArray(Int.self).suffix(2)))
        }
        #expect(text == " Paris.")
    }
}
