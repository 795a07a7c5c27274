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
/// workers that parked are roused ahead of the modules they wait for, which changes when they
/// wake, never what they see.
@Suite struct TurnTakingTests {
    @Test func longModulesGiveTheSameValuesAndLeaveNoHooks() throws {
        let model = NNsightModel(Sequential((0..<4).map { _ in SlowDoubling() }))
        let x = try Tensor.ones([1, 3])
        // The first trace parks; the next ones rouse their workers from the first read on.
        for _ in 0..<3 {
            let outputs = try model.trace(x) { m in try (0..<4).map { try m[$0].output } }
            for (i, output) in outputs.enumerated() {
                #expect(try output.equal(Tensor.full([1, 3], Double(2 << i))))
            }
            #expect(model.module.namedModules().allSatisfy { $0.module.hookCount == 0 })
        }
        // 4 ms modules outlast the worker's spinning: the next trace rouses from the start.
        #expect(model.envoys.workersWaitLong)
        // Two invokes, each waiting on long modules, still run in order on their own rows.
        var first: Tensor?, second: Tensor?
        try model.trace { t in
            t.invoke(x) { m in first = try m[1].output }
            t.invoke(try x * 3) { m in
                try m[2].setOutput(m[2].output * 0)
                second = try m[3].output
            }
        }
        #expect(try #require(first).equal(Tensor.full([1, 3], 4)))
        #expect(try #require(second).equal(Tensor.zeros([1, 3])))
    }

    /// The model's thread waits once until the invoke's first request, then once per value it
    /// serves (the last wait ends when the closure returns).
    @Test func invokeWaitsCountTheModelsHandoffs() throws {
        let model = NNsightModel(Sequential((0..<4).map { _ in SlowDoubling() }))
        let x = try Tensor.ones([1, 3])
        let (outputs, waits) = try InvokeWaits.measuring {
            try model.trace(x) { m in try [m[0].output, m[2].output] }
        }
        #expect(outputs.count == 2)
        #expect(waits.count == 3)
        #expect(waits.total >= .zero && waits.longCount <= waits.count)
        // Nothing is measured outside `measuring`.
        let (_, none) = InvokeWaits.measuring { () }
        _ = try model.trace(x) { m in try m[0].output }
        #expect(none.count == 0)
    }
}
