import NNsightNN
import Testing
import NNsightTorch
@testable import NNsight

/// `tracer.barrier(n)`: invokes exchange values mid-forward.
struct BarrierTests {
    @Test func testEmbeddingTransferWithBarrier() throws {
        let model = try makeTiny()
        let a = try Tensor.rand([1, 5]), b = try Tensor.rand([1, 5])
        var outA: Tensor!, outB: Tensor!
        try model.trace { t in
            let barrier = t.barrier(2)
            var hidden: Tensor!
            try t.invoke(a) { m in
                hidden = try m.layer1.output
                try barrier()
                outA = try m.layer2.output
            }
            try t.invoke(b) { m in
                try barrier()
                try m.layer1.setOutput(hidden)
                outB = try m.layer2.output
            }
        }
        // Invoke B's layer1 output was replaced by A's at the same module, so both agree.
        #expect(try maxAbsDifference(outA, try model.module(a)) < 1e-6)
        #expect(try maxAbsDifference(outB, outA) < 1e-6)
    }

    @Test func testBarrierNeverReachedRaises() throws {
        let model = try makeTiny()
        #expect(throws: NNsightError.barrierNeverReached(expected: 3, arrived: 2)) {
            try model.trace { t in
                let barrier = t.barrier(3)
                try t.invoke(try Tensor.rand([1, 5])) { m in
                    _ = try m.layer1.output
                    try barrier()
                }
                try t.invoke(try Tensor.rand([1, 5])) { _ in try barrier() }
            }
        }
        let x = try Tensor.rand([1, 5])
        #expect(try model.trace(x) { m in try m.layer2.output }.equal(try model.module(x)))
    }

    @Test func testBarrierIsReusable() throws {
        let model = try makeTiny()
        var order: [String] = []
        try model.trace { t in
            let barrier = t.barrier(2)
            try t.invoke(try Tensor.rand([1, 5])) { m in
                _ = try m.layer1.output
                order.append("A1"); try barrier()
                _ = try m.layer2.output
                order.append("A2"); try barrier()
            }
            try t.invoke(try Tensor.rand([1, 5])) { m in
                _ = try m.layer1.output
                order.append("B1"); try barrier()
                _ = try m.layer2.output
                order.append("B2"); try barrier()
            }
        }
        #expect(order == ["A1", "B1", "A2", "B2"])
    }
}

/// A barrier that outlives a run that failed or was cancelled holds nothing of it.
struct BarrierLifetimeTests {
    /// Two invokes meet at `barrier` after layer1, then each reads layer2 (A's layer1 goes to B).
    func meet(_ model: NNsightModel<Sequential>, at barrier: Barrier) throws -> (Tensor, Tensor) {
        let a = try Tensor.rand([1, 5]), b = try Tensor.rand([1, 5])
        var outA: Tensor!, outB: Tensor!
        try model.trace { t in
            var hidden: Tensor!
            try t.invoke(a) { m in
                hidden = try m.layer1.output
                try barrier()
                outA = try m.layer2.output
            }
            try t.invoke(b) { m in
                try barrier()
                try m.layer1.setOutput(hidden)
                outB = try m.layer2.output
            }
        }
        #expect(try maxAbsDifference(outA, try model.module(a)) < 1e-6)
        return (outA, outB)
    }

    @Test func testBarrierReusedAfterAFailedRun() throws {
        let model = try makeTiny()
        var kept: Barrier!
        // One participant arrives, the other invoke fails: the run is cancelled.
        #expect(throws: NNsightError.indexOutOfRange(path: "model", index: 7, count: 2)) {
            try model.trace { t in
                kept = t.barrier(2)
                try t.invoke(try Tensor.rand([1, 5])) { m in
                    _ = try m.layer1.output
                    try kept()
                }
                try t.invoke(try Tensor.rand([1, 5])) { m in
                    _ = try m.layer2.output
                    _ = try m[7].output
                }
            }
        }
        let (outA, outB) = try meet(model, at: kept)
        #expect(try maxAbsDifference(outB, outA) < 1e-6)
    }

    @Test func testBarrierReusedAfterARunItWasNeverCompletedIn() throws {
        let model = try makeTiny()
        var kept: Barrier!
        #expect(throws: NNsightError.barrierNeverReached(expected: 2, arrived: 1)) {
            try model.trace { t in
                kept = t.barrier(2)
                try t.invoke(try Tensor.rand([1, 5])) { m in
                    _ = try m.layer1.output
                    try kept()
                }
            }
        }
        let (outA, outB) = try meet(model, at: kept)
        #expect(try maxAbsDifference(outB, outA) < 1e-6)
    }
}
