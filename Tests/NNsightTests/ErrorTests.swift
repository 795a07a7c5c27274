import NNsightNN
import Testing
import NNsightTorch
@testable import NNsight

/// Every misuse becomes a typed error out of `trace`, and the model stays usable.
struct ErrorTests {
    @Test func testUnknownChildListsValidOnes() throws {
        let model = try makeTiny()
        #expect(throws: NNsightError.unknownChild(path: "model", name: "layer3", valid: ["layer1", "layer2"])) {
            try model.trace(try Tensor.rand([1, 5])) { m in _ = try m.layer3.output }
        }
    }

    @Test func testIndexOutOfRange() throws {
        let model = try makeTiny()
        #expect(throws: NNsightError.indexOutOfRange(path: "model", index: 5, count: 2)) {
            try model.trace(try Tensor.rand([1, 5])) { m in _ = try m[5].output }
        }
        #expect(try model.root[-1].path == "model.layer2")
    }

    @Test func testOutOfOrderError() throws {
        let model = try makeTiny()
        #expect(throws: NNsightError.outOfOrder(requester: "model.layer1.output.i0")) {
            try model.trace(try Tensor.rand([1, 5])) { m in
                _ = try m.layer2.output
                _ = try m.layer1.output
            }
        }
        #expect(throws: NNsightError.outOfOrder(requester: "model.layer2.input.i0")) {
            try model.trace(try Tensor.rand([1, 5])) { m in
                _ = try m.layer2.output
                _ = try m.layer2.input
            }
        }
    }

    @Test func testUnfiredBranchRaisesMissedProvider() throws {
        let branched = NNsightModel(Branched())
        let positive = try Tensor.ones([1, 4])
        _ = try branched.trace(positive) { m in try m.sub_a.output }
        #expect(throws: NNsightError.missed(requester: "model.sub_b.output.i0")) {
            try branched.trace(positive) { m in _ = try m.sub_b.output }
        }
    }

    @Test func testAccessOutsideTraceRaises() throws {
        let model = try makeTiny()
        #expect(throws: NNsightError.outsideInterleaving(requester: "model.layer1.output", action: "access")) {
            _ = try model.root.layer1.output
        }
        #expect(throws: NNsightError.outsideInterleaving(requester: "model.layer1.output", action: "set")) {
            try model.root.layer1.setOutput(try Tensor.zeros([1, 10]))
        }
    }

    @Test func testTraceNoInputRaises() throws {
        let model = try makeTiny()
        #expect(throws: NNsightError.noInput) { try model.trace { _ in } }
    }

    /// A tracer kept past its trace: a new invoke on it is refused, its body never runs, and the
    /// model still traces.
    @Test func invokeOnAFinishedTracerRaises() throws {
        let model = try makeTiny()
        let x = try Tensor.rand([1, 5])
        var kept: Tracer<NNsightModel<Sequential>>?
        try model.trace { t in
            kept = t
            try t.invoke(x) { m in _ = try m.layer1.output }
        }
        var ran = false
        #expect(throws: NNsightError.tracerFinished) { try kept?.invoke(x) { _ in ran = true } }
        #expect(!ran)
        let output = try model.trace(x) { m in try m.layer2.output }
        #expect(output.shape == [1, 2])
    }

    @Test func testInvokeDuringExecutionRaises() throws {
        let model = try makeTiny()
        let x = try Tensor.rand([1, 5])
        #expect(throws: NNsightError.invokeDuringExecution) {
            try model.trace { t in
                try t.invoke(x) { m in
                    try t.invoke(x) { _ in }
                    _ = try m.layer1.output
                }
            }
        }
        #expect(throws: NNsightError.invokeDuringExecution) {
            try model.trace(x) { _ in try model.trace(x) { m in try m.layer1.output } }
        }
    }

    @Test func testSwiftErrorInClosureEndsTraceAndModelStaysClean() throws {
        struct Refused: Error, Equatable {}
        let model = try makeTiny()
        let x = try Tensor.rand([1, 5])
        #expect(throws: Refused()) {
            try model.trace(x) { m in
                try m.layer1.output[.all] = 0
                throw Refused()
            }
        }
        let clean = try model.trace(x) { m in try m.layer2.output }
        #expect(try clean.equal(try model.module(x)))
    }

    @Test func testBadSubscriptInsideTraceBecomesTorchError() throws {
        let model = try makeTiny()
        do {
            try model.trace(try Tensor.rand([1, 5])) { m in
                try m.layer1.output[0, 99] = 1
                _ = try m.layer2.output
            }
            Issue.record("expected an error")
        } catch let error as TorchError {
            #expect(error.kind == .index)
        }
    }

    @Test func testWrongShapeReplacementBecomesTorchError() throws {
        let model = try makeTiny()
        do {
            try model.trace(try Tensor.rand([1, 5])) { m in
                try m.layer1.setOutput(try Tensor.zeros([1, 7]))
                _ = try m.layer2.output
            }
            Issue.record("expected an error")
        } catch let error as TorchError {
            #expect(error.message.contains("shapes cannot be multiplied"))
        }
    }

    @Test func testManyFailingTracesLeakNoThreadsOrHooks() throws {
        struct Refused: Error {}
        let model = try makeTiny()
        let x = try Tensor.rand([1, 5])
        _ = try model.trace(x) { m in try m.layer1.output }
        let threads = WorkerPool.shared.threadCount
        for round in 0..<50 {
            do {
                try model.trace { t in
                    try t.invoke(x) { m in
                        _ = try m.layer1.output
                        if round % 2 == 0 { throw Refused() }
                        _ = try m.layer1.output   // fine
                        _ = try m.layer2.input
                        _ = try m.layer1.input    // out of order
                    }
                    try t.invoke(x) { m in _ = try m.layer2.output }
                }
            } catch {}
        }
        // Workers are reused: 100 invokes over 50 traces create no new threads beyond what
        // tests running in parallel in this process may need at once.
        #expect(WorkerPool.shared.threadCount <= threads + 8)
        #expect(model.module.namedModules().allSatisfy { $0.module.hookCount == 0 })
        let clean = try model.trace(x) { m in try m.layer2.output }
        #expect(try clean.equal(try model.module(x)))
    }
}
