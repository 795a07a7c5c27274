import NNsightNN
import Testing
import NNsightTorch
@testable import NNsight

/// Invokes, batching, call counts and renames.
struct InvokeTests {
    @Test func testInvokerGroupBatching() throws {
        let model = try makeTiny()
        let a = try Tensor.rand([1, 5]), b = try Tensor.rand([2, 5])
        var outA: Tensor!, outB: Tensor!, whole: Tensor!
        try model.trace { t in
            try t.invoke(a) { m in outA = try m.layer2.output }
            try t.invoke(b) { m in outB = try m.layer2.output }
            try t.invoke { m in whole = try m.layer2.output }
        }
        #expect(outA.shape == [1, 2] && outB.shape == [2, 2] && whole.shape == [3, 2])
        #expect(try maxAbsDifference(outA, try model.module(a)) < 1e-6)
        #expect(try maxAbsDifference(outB, try model.module(b)) < 1e-6)
        #expect(try Tensor.cat([outA, outB]).equal(whole))
    }

    @Test func testCrossInvokeIsolation() throws {
        let model = try makeTiny()
        let x = try Tensor.rand([1, 5])
        var zeroed: Tensor!, untouched: Tensor!
        try model.trace { t in
            try t.invoke(x) { m in
                try m.layer1.setOutput(try m.layer1.output.zerosLike())
                zeroed = try m.layer2.output
            }
            try t.invoke(x) { m in untouched = try m.layer2.output }
        }
        #expect(try zeroed.equal(try model.layer2.bias!.value.unsqueeze(0)))
        #expect(try maxAbsDifference(untouched, try model.module(x)) < 1e-6)
    }

    @Test func testActivationPatchingAcrossInvokes() throws {
        let model = try makeTiny()
        let clean = try Tensor.rand([1, 5]), corrupted = try Tensor.rand([1, 5])
        var patched: Tensor!
        try model.trace { t in
            var hidden: Tensor!
            try t.invoke(clean) { m in hidden = try m.layer1.output.clone() }
            try t.invoke(corrupted) { m in
                try m.layer1.output[.all] = hidden
                patched = try m.layer2.output
            }
        }
        #expect(try maxAbsDifference(patched, try model.module(clean)) < 1e-6)
    }

    @Test func testPromptlessInvokeEditsWholeBatch() throws {
        let model = try makeTiny()
        var before: Tensor!, after: Tensor!
        try model.trace { t in
            try t.invoke(try Tensor.rand([2, 5])) { _ in }
            try t.invoke { m in before = try m.layer1.output.clone() }
            try t.invoke { m in try m.layer1.output[.all] = 0 }
            try t.invoke { m in after = try m.layer1.output }
        }
        #expect(try before.abs().sum().item(Float.self) > 0)
        #expect(try after.abs().sum().item(Float.self) == 0)
    }

    @Test func testSkipBatched() throws {
        let model = try makeTiny()
        let a = try Tensor.rand([1, 5]), b = try Tensor.rand([1, 5])
        var outA: Tensor!, outB: Tensor!
        try model.trace { t in
            try t.invoke(a) { m in
                try m.layer2.skip(try Tensor.full([1, 2], 1))
                outA = try m.layer2.output
            }
            try t.invoke(b) { m in
                try m.layer2.skip(try Tensor.full([1, 2], 2))
                outB = try m.layer2.output
            }
        }
        #expect(try outA.toArray(Float.self) == [1, 1] && outB.toArray(Float.self) == [2, 2])
        #expect(throws: NNsightError.incompleteSkip(path: "model.layer2")) {
            try model.trace { t in
                try t.invoke(a) { m in try m.layer2.skip(try Tensor.full([1, 2], 1)) }
                try t.invoke(b) { _ in }
            }
        }
    }

    @Test func testRecurrentModuleCallsAreAddressedByCount() throws {
        let model = NNsightModel(RecurrentInner())
        let x = try Tensor.rand([1, 4])
        let calls = try model.trace(x) { m in
            let first = try m.linear.output
            let second = try m.linear.next().output
            let third = try m.linear.next().output
            return [first, second, third]
        }
        let linear = model.module.linear
        let expected1 = try linear(x), expected2 = try linear(expected1), expected3 = try linear(expected2)
        #expect(try calls[0].equal(expected1) && calls[1].equal(expected2) && calls[2].equal(expected3))
        // Zeroing the second call's output makes the third call see zeros.
        let changed = try model.trace(x) { m in
            try m.linear.next().output[.all] = 0
            return try m.output
        }
        #expect(try changed.equal(try linear(try Tensor.zeros([1, 4]))))
    }

    @Test func testRenameModuleAndPath() throws {
        let tiny = try makeTiny()
        let model = NNsightModel(tiny.module, rename: ["layer1": "first", "layer2": "last"])
        let x = try Tensor.rand([1, 5])
        let (a, b) = try model.trace(x) { m in (try m.first.output, try m.last.output) }
        #expect(try a.equal(try tiny.layer1(x)) && b.equal(try tiny.module(x)))
        #expect(try model.root.first.path == "model.layer1")
        #expect(model.root.description.contains("(first/layer1): Linear(in_features=5, out_features=10, bias=True)"))
        let inner = NNsightModel(RecurrentInner(), rename: ["linear": "cell"])
        #expect(try inner.root.cell.path == "model.linear")
    }

    @Test func testEnvoyTreeWalking() throws {
        let model = try makeTiny()
        #expect(model.root.modules().map(\.path) == ["model.layer1", "model.layer2", "model"])
        #expect(try model.root.get("layer2").path == "model.layer2")
        #expect(model.root.count == 2)
    }
}
