import Testing
import NNsightTorch
@testable import NNsight

/// `edit`, `clearEdits` and `session` (nnsight's editing and session scenarios).
struct EditAndSessionTests {
    let prompt = "The capital of France is"

    func positions(_ model: LanguageModel) throws -> (first: Float, second: Float) {
        try model.trace(prompt) { m in
            let hidden = try m.transformer.h[1].output
            return (try hidden[.all, 0].abs().sum().item(Float.self), try hidden[.all, 1].abs().sum().item(Float.self))
        }
    }

    @Test func testNonInplaceEditing() throws {
        let model = try tinyGPT2()
        model.edit(inplace: true) { m in try m.transformer.h[1].output[.all, 0] = 0 }
        let edited = model.edit { m in try m.transformer.h[1].output[.all, 1] = 0 }
        let original = try positions(model), both = try positions(edited)
        #expect(original.first == 0 && original.second > 0)
        #expect(both.first == 0 && both.second == 0)
        #expect(edited.envoys === model.envoys && edited.network === model.network)
    }

    @Test func testClearEdits() throws {
        let model = try tinyGPT2()
        model.edit(inplace: true) { m in try m.transformer.h[1].output[.all, 0] = 0 }
        #expect(try positions(model).first == 0)
        model.clearEdits()
        #expect(try positions(model).first > 0)
    }

    @Test func testEditAppliesToGenerationAndBatches() throws {
        let model = try tinyGPT2()
        let edited = model.edit { m in try m.transformer.h[0].output[.all] = 0 }
        let rows = try edited.trace(["a", "b"]) { m in try m.transformer.h[0].output }
        #expect(rows.shape[0] == 2)
        #expect(try rows.abs().sum().item(Float.self) == 0)
        let clean = try model.generate(prompt, maxNewTokens: 3, stopAtEOS: false) { _, t in try t.result() }
        let changed = try edited.generate(prompt, maxNewTokens: 3, stopAtEOS: false) { _, t in try t.result() }
        #expect(try !clean.equal(changed))
    }

    /// A value taken in one trace is changed inside a later one (Python: `l1_out[:, 2] = 5` in
    /// trace 2 on trace 1's saved tensor): the change stays on the value and reaches the model.
    @Test func testCrossTraceIntervention() throws {
        let model = try makeTiny()
        let x = try Tensor.rand([1, 5])
        let clean = try model.layer1(x)
        let (first, output): (Tensor, Tensor) = try model.session {
            let first = try model.trace(x) { m in try m.layer1.output }
            let output = try model.trace(x) { m in
                first[.all, 2] = 5
                try m.layer1.setOutput(first)
                return try m.layer2.output
            }
            return (first, output)
        }
        #expect(try first[.all, 2].equal(try Tensor.full([1], 5)))
        #expect(try first[.all, 0..<2].equal(clean[.all, 0..<2]))
        #expect(try output.equal(try model.layer2(first)))
        #expect(try !output.equal(try model.module(x)))
    }

    /// Traces under a condition in a loop (Python: for item in 0..2, trace only when even and
    /// append inside the trace): each value comes out of the trace that ran on it.
    @Test func testConditionalIteration() throws {
        let model = try makeTiny()
        var result: [Int] = []
        try model.session {
            for item in 0..<3 where item % 2 == 0 {
                try model.trace(try Tensor.full([1, 5], Double(item))) { m in
                    result.append(Int(try m.layer1.input[0, 0].item(Float.self)))
                }
            }
        }
        #expect(result == [0, 2])
        #expect(model.layer1.callCount == 2)
    }
}
