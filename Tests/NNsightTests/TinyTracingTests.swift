import NNsightNN
import Testing
import NNsightTorch
@testable import NNsight

/// Ports of nnsight's tests/test_tiny.py scenarios (same names where they exist).
struct TinyTracingTests {
    @Test func testSave() throws {
        let model = try makeTiny()
        let x = try Tensor.rand([1, 5])
        let hidden = try model.trace(x) { m in try m.layer1.output }
        #expect(try hidden.equal(try model.layer1(x)))
    }

    @Test func testReturnsSeveralValues() throws {
        let model = try makeTiny()
        let x = try Tensor.rand([2, 5])
        let (input, output) = try model.trace(x) { m in (try m.layer2.input, try m.layer2.output) }
        #expect(try input.equal(try model.layer1(x)))
        #expect(try output.equal(try model.module(x)))
    }

    @Test func testInPlaceSetting() throws {
        let model = try makeTiny()
        let x = try Tensor.rand([1, 5])
        let output = try model.trace(x) { m in
            try m.layer1.output[.all] = 0
            return try m.layer2.output
        }
        #expect(try output.equal(try model.layer2.bias!.value.unsqueeze(0)))
    }

    @Test func testSetOutputReplaces() throws {
        let model = try makeTiny()
        let x = try Tensor.rand([1, 5])
        let (patched, seen) = try model.trace(x) { m in
            let doubled = try m.layer1.output * 2
            try m.layer1.setOutput(doubled)
            let seen = try m.layer1.output
            return (try m.layer2.output, seen)
        }
        let expected = try model.layer2(try model.layer1(x) * 2)
        #expect(try maxAbsDifference(patched, expected) < 1e-6)
        // A read after the write returns the written value.
        #expect(try maxAbsDifference(seen, try model.layer1(x) * 2) < 1e-6)
    }

    @Test func testSetInputToZerosGivesBias() throws {
        let model = try makeTiny()
        let output = try model.trace(try Tensor.rand([1, 5])) { m in
            try m.layer2.setInput(try Tensor.zeros([1, 10]))
            return try m.layer2.output
        }
        #expect(try output.equal(try model.layer2.bias!.value.unsqueeze(0)))
    }

    @Test func testLogitLensStyleCallRunsWithoutHooks() throws {
        let model = try makeTiny()
        let x = try Tensor.rand([1, 5])
        let (direct, traced) = try model.trace(x) { m in
            let hidden = try m.layer1.output
            return (try m.layer2(hidden), try m.layer2.output)
        }
        #expect(try direct.equal(traced))
        #expect(model.layer2.hookCount == 0)
    }

    @Test func testSkip() throws {
        let model = try makeTiny()
        let replacement = try Tensor.full([1, 2], 3)
        let output = try model.trace(try Tensor.rand([1, 5])) { m in
            try m.layer2.skip(replacement)
            return try m.layer2.output
        }
        #expect(try output.equal(replacement))
    }

    @Test func testStopKeepsEarlierValues() throws {
        let model = try makeTiny()
        var hidden: Tensor?
        try model.trace { t in
            try t.invoke(try Tensor.rand([1, 5])) { m in
                hidden = try m.layer1.output
                try t.stop()
            }
        }
        #expect(hidden?.shape == [1, 10])
        // Nothing after the stop ran.
        #expect(model.layer2.callCount == 0)
    }

    @Test func testConditionalOnRealValues() throws {
        let model = try makeTiny()
        let output = try model.trace(try Tensor.rand([1, 5])) { m in
            if try (m.layer1.output .< 100_000).all().item(Bool.self) {
                try m.layer1.output[.all] = 0
            }
            return try m.layer2.output
        }
        #expect(try output.equal(try model.layer2.bias!.value.unsqueeze(0)))
    }
}
