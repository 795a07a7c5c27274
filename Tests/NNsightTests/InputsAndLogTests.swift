import Foundation
import Testing
import NNsightModels
import NNsightTorch
@testable import NNsight

/// `.inputs` (the main input and the named arguments of a call) and `tracer.log`.
struct InputsAndLogTests {
    let scenarios: [Any] = ["tiny_gpt2", "scenarios"]

    /// The root's inputs in a batch of two prompts of different lengths are the left-padded ids
    /// and the attention mask that Python nnsight 0.8.1 hands the model (`model.inputs`).
    @Test func testInputsOfTheRootInABatch() throws {
        let model = try tinyGPT2()
        var ids: Tensor!, mask: Tensor?
        try model.trace { t in
            try t.invoke("The capital of France is") { _ in }
            try t.invoke("Hello world") { _ in }
            try t.invoke { m in
                let inputs = try m.inputs
                ids = inputs.input
                mask = inputs.context.attentionMask
            }
        }
        let expected = LMFixtures.value(scenarios + ["patching", "batch_model_inputs"]) as! [String: Any]
        let expectedIds = (expected["input_ids"] as! [[NSNumber]]).map { $0.map(\.intValue) }
        let expectedMask = (expected["attention_mask"] as! [[NSNumber]]).map { $0.map(\.intValue) }
        #expect(ids.shape == [2, 9])
        #expect(try ids.toArray(Int.self) == expectedIds.flatMap { $0 })
        let attentionMask = try #require(mask)
        #expect(try attentionMask.toArray(Int.self) == expectedMask.flatMap { $0 })
    }

    /// A block's `.inputs` is the previous block's output, narrowed to the invoke's rows;
    /// `.inputs` and `.input` address the same call.
    @Test func testInputsOfABlockPerInvoke() throws {
        let model = try tinyGPT2()
        var previous: [Tensor] = [], inputs: [Tensor] = [], plain: [Tensor] = []
        try model.trace { t in
            for prompt in ["The capital of France is", "Hello world"] {
                try t.invoke(prompt) { m in
                    previous.append(try m.transformer.h[0].output)
                    inputs.append(try m.transformer.h[1].inputs.input)
                    plain.append(try m.transformer.h[1].input)
                }
            }
        }
        #expect(inputs.count == 2)
        for i in 0..<2 {
            #expect(inputs[i].shape == [1, 9, 64])
            #expect(try inputs[i].equal(previous[i]))
            #expect(try plain[i].equal(inputs[i]))
        }
        #expect(try !inputs[0].equal(inputs[1]))
    }

    /// `log` lines come in the order the model serves the invokes, each item printed as Swift
    /// describes it (a tensor as PyTorch prints it).
    @Test func testLogFollowsTheOrderOfService() throws {
        let model = try makeTiny()
        var lines: [String] = []
        var small: Tensor!
        try model.trace { t in
            t.onLog = { lines.append($0) }
            try t.invoke(try Tensor.rand([1, 5])) { m in
                _ = try m.layer2.output
                t.log("A", "layer2")
            }
            try t.invoke(try Tensor.rand([1, 5])) { m in
                small = try m.layer1.output[0, 0..<2]
                t.log("B", "layer1", small!)
                _ = try m.layer2.output
                t.log("B", "layer2", 2)
            }
        }
        #expect(lines == ["B layer1 \(small!)", "A layer2", "B layer2 2"])
        #expect(lines[0].hasPrefix("B layer1 tensor(["))
    }
}
