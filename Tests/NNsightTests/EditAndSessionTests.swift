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

    @Test func testCrossTraceIntervention() throws {
        let model = try makeTiny()
        let x = try Tensor.rand([1, 5])
        let output: Tensor = try model.session {
            let first = try model.trace(x) { m in try m.layer1.output }
            return try model.trace(x) { m in
                try m.layer1.setOutput(try first * 0)
                return try m.layer2.output
            }
        }
        #expect(try output.equal(try model.layer2.bias!.value.unsqueeze(0)))
    }

    @Test func testConditionalIteration() throws {
        let model = try makeTiny()
        var result: [Int] = []
        try model.session {
            for item in 0..<3 where item % 2 == 0 {
                _ = try model.trace(try Tensor.rand([1, 5])) { m in try m.layer1.output }
                result.append(item)
            }
        }
        #expect(result == [0, 2])
    }
}
