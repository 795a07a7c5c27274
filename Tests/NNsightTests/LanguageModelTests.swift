import Foundation
import NNsightTokenizers
import Testing
import NNsightTorch
@testable import NNsight

/// Ports of nnsight's test_lm.py scenarios on the tiny GPT-2 checkpoint, against Python nnsight 0.8.1.
struct LanguageModelTests {
    let scenarios: [Any] = ["tiny_gpt2", "scenarios"]
    let p1 = "The capital of France is"

    func scenario(_ name: String, _ key: String) throws -> Tensor { try LMFixtures.tensor(scenarios + [name, key]) }

    @Test func testSave() throws {
        let model = try tinyGPT2()
        let (hidden, logits) = try model.trace(p1) { m in
            (try m.transformer.h[-1].output, try m.lm_head.output[0, -1])
        }
        #expect(try maxAbsDifference(hidden, try scenario("save", "h_last_output")) < 1e-4)
        #expect(try maxAbsDifference(logits, try scenario("save", "last_logits")) < 1e-4)
    }

    @Test func testSetZero() throws {
        let model = try tinyGPT2()
        let (logits, zeroed) = try model.trace(p1) { m in
            try m.transformer.h[0].output[.all] = 0
            let zeroed = try m.transformer.h[0].output
            return (try m.lm_head.output[0, -1], zeroed)
        }
        #expect(try zeroed.abs().sum().item(Float.self) == 0)
        #expect(try maxAbsDifference(logits, try scenario("set_zero", "last_logits")) < 1e-4)
    }

    @Test func testSwap() throws {
        let model = try tinyGPT2()
        let logits = try model.trace(p1) { m in
            try m.transformer.h[0].setOutput(try m.transformer.h[0].output * 2)
            return try m.lm_head.output[0, -1]
        }
        #expect(try maxAbsDifference(logits, try scenario("swap", "last_logits")) < 1e-4)
    }

    @Test func testBasicSkip() throws {
        let model = try tinyGPT2()
        let (input, output, logits) = try model.trace(p1) { m in
            let input = try m.transformer.h[0].output
            try m.transformer.h[1].skip(input)
            return (input, try m.transformer.h[1].output, try m.lm_head.output[0, -1])
        }
        #expect(try input.equal(output))
        #expect(try maxAbsDifference(logits, try scenario("skip", "last_logits")) < 1e-4)
    }

    /// nnsight 0.8's idiom: a module skipped with its own input (the skip gate comes after
    /// `.input`), against Python nnsight 0.8.1.
    @Test func testSkipWithItsOwnInput() throws {
        let model = try tinyGPT2()
        let (input, output, logits) = try model.trace(p1) { m in
            let x = try m.transformer.h[1].input
            try m.transformer.h[1].skip(x)
            return (x, try m.transformer.h[1].output, try m.lm_head.output[0, -1])
        }
        #expect(LMFixtures.value(scenarios + ["skip_input", "h1_output_equals_h1_input"]) as? Bool == true)
        #expect(try output.equal(input))
        #expect(try maxAbsDifference(input, try scenario("skip_input", "h1_input")) < 1e-4)
        #expect(try maxAbsDifference(logits, try scenario("skip_input", "last_logits")) < 1e-4)
        #expect(try logits.argmax().item(Int.self) == LMFixtures.int(scenarios + ["skip_input", "top1"]))
    }

    /// test_skip_with_input_modification: an input write, then a skip at the same call: the skip wins.
    @Test func testSkipWithInputModification() throws {
        let model = try tinyGPT2()
        let (input, output, logits) = try model.trace(p1) { m in
            let x = try m.transformer.h[1].input
            try m.transformer.h[1].setInput(try x.zerosLike())
            try m.transformer.h[1].skip(x)
            return (x, try m.transformer.h[1].output, try m.lm_head.output[0, -1])
        }
        #expect(LMFixtures.value(scenarios + ["skip_input", "input_write_then_skip_output_equals_input"]) as? Bool == true)
        #expect(try output.equal(input))
        #expect(try maxAbsDifference(logits, try scenario("skip_input", "input_write_then_skip_last_logits")) < 1e-4)
    }

    /// After a skip, the same call's `.input` is past (Python: OutOfOrderError).
    @Test func testInputAfterSkipIsOutOfOrder() throws {
        let model = try tinyGPT2()
        #expect(LMFixtures.value(scenarios + ["skip_input", "input_after_skip_error"]) as? String == "OutOfOrderError")
        #expect(throws: NNsightError.outOfOrder(requester: "model.transformer.h.1.input.i0")) {
            try model.trace(p1) { m in
                try m.transformer.h[1].skip(try m.transformer.h[0].output)
                return try m.transformer.h[1].input
            }
        }
    }

    @Test func testActivationPatching() throws {
        let model = try tinyGPT2()
        var logitsA: Tensor!, logitsB: Tensor!
        try model.trace { t in
            var patch: Tensor!
            try t.invoke(p1) { m in
                patch = try m.transformer.h[0].output[.all, -1]
                logitsA = try m.lm_head.output[0, -1]
            }
            try t.invoke("Hello world") { m in
                try m.transformer.h[0].output[.all, -1] = patch
                logitsB = try m.lm_head.output[0, -1]
            }
        }
        #expect(try maxAbsDifference(logitsA, try scenario("patching", "a_last_logits")) < 1e-4)
        #expect(try maxAbsDifference(logitsB, try scenario("patching", "b_last_logits")) < 1e-4)
    }

    @Test func testInvokerGroupBatching() throws {
        let model = try tinyGPT2()
        var seen: [Tensor] = []
        try model.trace { t in
            try t.invoke("Hi") { m in seen.append(try m.lm_head.output[.all, -1]) }
            try t.invoke(["A B C", "D"]) { m in seen.append(try m.lm_head.output[.all, -1]) }
            try t.invoke { m in seen.append(try m.lm_head.output[.all, -1]) }
        }
        #expect(seen.map(\.shape) == [[1, 512], [2, 512], [3, 512]])
        for index in 0..<3 {
            let expected = try LMFixtures.tensor(scenarios + ["batched_invokes", "per_invoke_last_logits", index])
            #expect(try maxAbsDifference(seen[index], expected) < 1e-4)
        }
        #expect(try Tensor.cat([seen[0], seen[1]]).equal(seen[2]))
    }

    @Test func testInvokeListMatchesOneList() throws {
        let model = try tinyGPT2()
        let together = try model.trace(["Hi", "A B C", "D"]) { m in try m.lm_head.output[.all, -1] }
        var separate: Tensor!
        try model.trace { t in
            try t.invoke("Hi") { _ in }
            try t.invoke(["A B C", "D"]) { _ in }
            try t.invoke { m in separate = try m.lm_head.output[.all, -1] }
        }
        #expect(try maxAbsDifference(together, separate) < 1e-5)
    }

    @Test func testLogitLens() throws {
        let model = try tinyGPT2()
        let lens = try model.trace(p1) { m in
            try (0..<2).map { layer in try m.lm_head(try m.transformer.ln_f(try m.transformer.h[layer].output))[0, -1] }
        }
        for layer in 0..<2 {
            let expected = try LMFixtures.tensor(scenarios + ["logit_lens", "layers", layer, "logits"])
            #expect(try maxAbsDifference(lens[layer], expected) < 1e-4)
            #expect(try lens[layer].argmax().item(Int.self) == LMFixtures.int(scenarios + ["logit_lens", "layers", layer, "top1"]))
        }
    }

    @Test func testInputIdsTensorEqualsString() throws {
        let model = try tinyGPT2()
        let ids = LMFixtures.ints(["tiny_gpt2", "input_ids", "P1"])
        let fromIds = try model.trace(try Tensor(ids, shape: [1, ids.count])) { m in try m.lm_head.output[0, -1] }
        let fromString = try model.trace(p1) { m in try m.lm_head.output[0, -1] }
        #expect(try fromIds.equal(fromString))
        #expect(try maxAbsDifference(fromIds, try scenario("input_ids_tensor", "last_logits")) < 1e-4)
    }

    @Test func testTokenizedBatchInput() throws {
        let model = try tinyGPT2()
        let padding = PaddingOptions(direction: .right, padId: 0)
        let encodings = model.tokenizer.encodeBatch(["Hi", "A B C"], padding: padding)
        let fromEncodings = try model.trace(encodings) { m in try m.lm_head.output[.all, -1] }
        let fromStrings = try model.trace(["Hi", "A B C"]) { m in try m.lm_head.output[.all, -1] }
        #expect(try fromEncodings.equal(fromStrings))
    }

    @Test func testEmptyPromptErrorMessage() throws {
        let model = try tinyGPT2()
        do {
            _ = try model.trace("") { m in try m.lm_head.output }
            Issue.record("expected an error")
        } catch let error as NNsightError {
            #expect(error.description.contains("zero tokens"))
        }
    }

    @Test func testLazyLoadingAndPrinting() throws {
        let model = try tinyGPT2()
        #expect(!model.isDispatched)
        #expect(model.network.parameters.allSatisfy { $0.device == .meta })
        #expect(model.root.description.contains("(0-1): 2 x GPT2Block("))
        #expect(try model.root.transformer.h[-1].path == "model.transformer.h.1")
        _ = try model.trace(p1) { m in try m.lm_head.output }
        #expect(model.isDispatched)
        #expect(model.network.parameters.allSatisfy { $0.device == .cpu })
    }

    @Test func testRenamedPathsWork() throws {
        let model = try LanguageModel(path: LMFixtures.tinyGPT2Path, rename: ["transformer.h": "layers", "mlp": "ff"])
        let (a, b) = try model.trace(p1) { m in (try m.layers[1].ff.output, try m.lm_head.output[0, -1]) }
        #expect(a.shape == [1, 9, 64])
        #expect(try maxAbsDifference(b, try scenario("save", "last_logits")) < 1e-4)
        #expect(model.root.description.contains("(ff/mlp): GPT2MLP("))
    }
}
