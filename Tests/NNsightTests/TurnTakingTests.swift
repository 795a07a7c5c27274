import Foundation
import NNsightNN
import Testing
import NNsightTorch
@testable import NNsight

/// Doubles its input after sleeping: a module long enough that a waiting worker parks.
final class SlowDoubling: Module {
    override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        Thread.sleep(forTimeInterval: 0.004)
        return try input * 2
    }
}

/// The turn-taking between the model's thread and the invokes' workers when modules take long:
/// workers that parked, and workers roused ahead of the modules they wait for, see the same values.
@Suite struct TurnTakingTests {
    @Test func longModulesGiveTheSameValuesAndLeaveNoHooks() throws {
        let model = NNsightModel(Sequential((0..<4).map { _ in SlowDoubling() }))
        let x = try Tensor.ones([1, 3])
        // Whether a trace rouses its workers from the first read depends on how long earlier
        // waits were; both ways are forced here, so that each is checked whatever the timing.
        for rousing in [false, true, false, true] {
            model.envoys.workersWaitLong = rousing
            let outputs = try model.trace(x) { m in try (0..<4).map { try m[$0].output } }
            #expect(outputs.count == 4)
            for (i, output) in outputs.enumerated() {
                #expect(try output.equal(Tensor.full([1, 3], Double(2 << i))))
            }
            #expect(model.module.namedModules().allSatisfy { $0.module.hookCount == 0 })
        }
        // Two invokes, each waiting on long modules, still run in order on their own rows.
        for rousing in [false, true] {
            model.envoys.workersWaitLong = rousing
            var first: Tensor?, second: Tensor?
            try model.trace { t in
                try t.invoke(x) { m in first = try m[1].output }
                try t.invoke(try x * 3) { m in
                    try m[2].setOutput(m[2].output * 0)
                    second = try m[3].output
                }
            }
            #expect(try #require(first).equal(Tensor.full([1, 3], 4)))
            #expect(try #require(second).equal(Tensor.zeros([1, 3])))
        }
    }

    /// The model's thread waits once until the invoke's first request, then once per value it
    /// serves (the last wait ends when the closure returns); traces on other threads, and traces
    /// outside `measuring`, are not counted.
    @Test func invokeWaitsCountTheModelsHandoffs() throws {
        let model = NNsightModel(Sequential((0..<4).map { _ in SlowDoubling() }))
        let x = try Tensor.ones([1, 3])
        let (outputs, waits) = try InvokeWaits.measuring {
            try model.trace(x) { m in try [m[0].output, m[2].output] }
        }
        #expect(try outputs[0].equal(Tensor.full([1, 3], 2)))
        #expect(try outputs[1].equal(Tensor.full([1, 3], 8)))
        #expect(waits.count == 3)
        #expect(waits.total > .zero)
        #expect(waits.longTotal <= waits.total)
        // A trace on another thread while this one measures is not counted.
        let other = NNsightModel(Sequential((0..<2).map { _ in SlowDoubling() }))
        let (_, onlyOther) = InvokeWaits.measuring {
            let done = DispatchSemaphore(value: 0)
            let job = OtherThreadJob {
                _ = try? other.trace(x) { m in try m[1].output }
                done.signal()
            }
            Thread { job.run() }.start()
            done.wait()
        }
        #expect(onlyOther.count == 0)
        // Outside `measuring` nothing is counted, and a new measurement starts from zero.
        _ = try model.trace(x) { m in try m[0].output }
        #expect(!InvokeWaits.isMeasuring)
        let (_, again) = try InvokeWaits.measuring { try model.trace(x) { m in try m[1].output } }
        #expect(again.count == 2)
    }
}

/// A job for another thread; the semaphore the test waits on orders the two threads' uses of
/// what it captures.
private struct OtherThreadJob: @unchecked Sendable {
    let run: () -> Void
}
