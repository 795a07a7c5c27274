import NNsightNN
import NNsightTorch
import Testing
@testable import NNsight

/// A prompt-less invoke that covers chosen input invokes (a remote client's rows in a batch
/// shared with other clients), and the remote-access fallback of envoys outside a trace.
struct CoveringInvokeTests {
    @Test func aCoveringInvokeSeesAndWritesOnlyItsRows() throws {
        let model = try makeTiny()
        let a = try Tensor.rand([1, 5]), b = try Tensor.rand([2, 5]), c = try Tensor.rand([1, 5])
        var covered: Tensor!, outA: Tensor!, outB: Tensor!, outC: Tensor!
        try model.trace { t in
            t.invoke(a) { m in outA = try m.layer2.output }
            t.invoke(b) { m in outB = try m.layer2.output }
            t.invoke(c) { m in outC = try m.layer2.output }
            // Rows of the second and third input invokes: b's two rows and c's one.
            t.invoke(coveringInputInvokes: 1..<3) { m in
                covered = try m.layer1.output.clone()
                try m.layer1.setOutput(try m.layer1.output.zerosLike())
            }
        }
        #expect(covered.shape == [3, 10])
        let expectedCovered = try model.layer1(Tensor.cat([b, c]))
        #expect(try maxAbsDifference(covered, expectedCovered) < 1e-6)
        // The covered rows continue from zeros; the first invoke's row is untouched.
        #expect(try maxAbsDifference(outA, try model.module(a)) < 1e-6)
        let bias = try model.layer2.bias!.value.unsqueeze(0)
        #expect(try outB.equal(try Tensor.cat([bias, bias])))
        #expect(try outC.equal(bias))
    }

    @Test func anEnvoyOutsideATraceStillThrowsWithoutARemoteBackend() throws {
        let model = try makeTiny()
        #expect(throws: NNsightError.outsideInterleaving(requester: "model.layer1.output", action: "access")) {
            _ = try model.root.layer1.output
        }
    }
}
