import Foundation
import NNsightNN
import NNsightTorch
import Testing
@testable import NNsight

/// Python's `torch.relu`, so the port of nnsight's test module reads (and is named) as in Python.
enum torch {
    static func relu(_ x: Tensor) throws -> Tensor { try x.relu() }
}

/// nnsight's `.source` test module: `h = torch.relu(self.fc1(x)); return self.fc2(h)`, with
/// Python's weights (scripts/fixtures/gen_source.py writes them).
final class SourceToy: Module {
    let fc1: Linear
    let fc2: Linear

    init(fc1: Linear, fc2: Linear) {
        self.fc1 = fc1
        self.fc2 = fc2
    }

    @Sourced
    override func forward(_ x: Tensor, _ context: ForwardContext) throws -> Tensor {
        let h = try torch.relu(self.fc1(x))
        return try self.fc2(h)
    }
}

/// A marked function that a marked forward calls (recursive `.source`).
@Sourced
func doubledRelu(_ x: Tensor) throws -> Tensor {
    let y = try torch.relu(x)
    return try y.pow(2)
}

/// Calls `doubledRelu` from its forward.
final class RecursiveToy: Module {
    let fc1 = try! Linear(4, 3)

    @Sourced
    override func forward(_ x: Tensor, _ context: ForwardContext) throws -> Tensor {
        try doubledRelu(self.fc1(x))
    }
}

/// Ports of nnsight's test_source.py on its two-layer module, against Python nnsight 0.8.1.
struct SourceTests {
    let names: [Any] = ["names"]

    func toy() throws -> (NNsightModel<SourceToy>, Tensor) {
        try Torch.setNumThreads(1)
        func linear(_ prefix: String, _ inputs: Int, _ outputs: Int) throws -> Linear {
            let layer = try Linear(inputs, outputs)
            layer.weight.value = try SourceFixtures.tensor(SourceFixtures.source, names + ["\(prefix)_weight"])
            layer.bias!.value = try SourceFixtures.tensor(SourceFixtures.source, names + ["\(prefix)_bias"])
            return layer
        }
        let module = SourceToy(fc1: try linear("fc1", 4, 3), fc2: try linear("fc2", 3, 2))
        return (NNsightModel(module), try SourceFixtures.tensor(SourceFixtures.source, names + ["x"]))
    }

    @Test func testSourceNames() throws {
        let (model, _) = try toy()
        let source = try model.root.source
        #expect(source.operations == SourceFixtures.value(SourceFixtures.source, names + ["names"]) as! [String])
        let lines = (SourceFixtures.value(SourceFixtures.source, names + ["lines"]) as! [NSNumber]).map(\.intValue)
        #expect(SourceToy.__source_forward.lines == lines)
    }

    @Test func testSourcePrinting() throws {
        let (model, _) = try toy()
        let expected = SourceFixtures.value(SourceFixtures.source, names + ["printed_swift_forward"]) as! String
        #expect("\(try model.root.source)" == expected)
        let operations = SourceFixtures.value(SourceFixtures.source, names + ["printed_swift_operations"]) as! [String: String]
        for (name, printed) in operations {
            #expect("\(try model.root.source.operation(name))" == printed)
        }
    }

    @Test func testOperationOutputs() throws {
        let (model, x) = try toy()
        let outputs = try model.trace(x) { m in
            let source = try m.source
            return [try source.self_fc1_0.output, try source.torch_relu_0.output, try source.h_0.output,
                    try source.self_fc2_0.output]
        }
        for (name, output) in zip(["self_fc1_0", "torch_relu_0", "h_0", "self_fc2_0"], outputs) {
            let expected = try SourceFixtures.tensor(SourceFixtures.source, names + ["outputs", name])
            #expect(try maxAbsDifference(output, expected) < 1e-6, "\(name)")
        }
    }

    @Test func testSourceSafeIntervention() throws {
        let (model, x) = try toy()
        let before = try model.module(x)
        _ = try model.trace(x) { m in try m.source.torch_relu_0.output }
        let after = try model.module(x)
        #expect(try before.equal(after))
        #expect(!model.module.sourceHooked(["torch_relu_0"]))
    }

    @Test func testSourceOperationNotFound() throws {
        let (model, x) = try toy()
        #expect(throws: SourceError.unknownOperation(path: "model.source", name: "nope_0",
                                                      valid: ["self_fc1_0", "torch_relu_0", "h_0", "self_fc2_0"])) {
            try model.trace(x) { m in _ = try m.source.nope_0.output }
        }
        #expect(throws: SourceError.notSourced(path: "model.fc1")) { _ = try model.root.fc1.source }
    }

    @Test func testOperationSetOutputInputAndSkip() throws {
        let (model, x) = try toy()
        let fc2 = model.module.fc2
        // Writing the relu's output feeds fc2 the replacement.
        let zeroed = try model.trace(x) { m in
            try m.source.torch_relu_0.setOutput(Tensor.zeros([2, 3]))
            return try m.output
        }
        #expect(try zeroed.equal(fc2(Tensor.zeros([2, 3]))))
        // Replacing fc1's input with zeros is fc1 of zeros.
        let fromZeroInput = try model.trace(x) { m in
            try m.source.self_fc1_0.setInput(Tensor.zeros([2, 4]))
            return try m.source.self_fc1_0.output
        }
        #expect(try fromZeroInput.equal(model.module.fc1(Tensor.zeros([2, 4]))))
        // A skipped call never runs: fc1 is not called, its replacement flows on.
        let calls = model.module.fc1.callCount
        let (skippedOutput, relu) = try model.trace(x) { m in
            try m.source.self_fc1_0.skip((-Tensor.ones([2, 3])))
            return (try m.source.self_fc1_0.output, try m.source.torch_relu_0.output)
        }
        #expect(model.module.fc1.callCount == calls)
        #expect(try skippedOutput.equal((-Tensor.ones([2, 3]))))
        #expect(try relu.abs().sum().item(Float.self) == 0)
    }

    @Test func testOperationsInInvokesAndCache() throws {
        let (model, x) = try toy()
        let full = try model.trace(x) { m in try m.source.torch_relu_0.output }
        var first: Tensor!, second: Tensor!, cached: Tensor!
        try model.trace { t in
            t.invoke(try x.narrow(dim: 0, start: 0, length: 1)) { m in first = try m.source.torch_relu_0.output }
            t.invoke(try x.narrow(dim: 0, start: 1, length: 1)) { m in
                let cache = try t.cache(modules: [try m.source.h_0])
                second = try m.source.torch_relu_0.output
                _ = try m.output
                cached = try cache["model.source.h_0"].output
            }
        }
        #expect(try first.equal(full.narrow(dim: 0, start: 0, length: 1)))
        #expect(try second.equal(full.narrow(dim: 0, start: 1, length: 1)))
        #expect(try cached.equal(second))
    }

    @Test func testOutOfOrderOperation() throws {
        let (model, x) = try toy()
        #expect(throws: NNsightError.self) {
            try model.trace(x) { m in
                _ = try m.source.self_fc2_0.output
                _ = try m.source.self_fc1_0.output
            }
        }
    }

    @Test func testRecursiveSource() throws {
        try Torch.setNumThreads(1)
        let model = NNsightModel(RecursiveToy())
        let x = try Tensor.randn([2, 4])
        let (relu, outer) = try model.trace(x) { m in
            let inner = try m.source.doubledRelu_0.source
            return (try inner.torch_relu_0.output, try m.source.doubledRelu_0.output)
        }
        #expect(try outer.equal(relu.pow(2)))
        #expect(try relu.equal(model.module.fc1(x).relu()))
        // Once run, the recursive source prints the function.
        let printed = try model.trace(x) { m in "\(try m.source.doubledRelu_0.source)" }
        #expect(printed.contains("torch_relu_0 ->  0     let y = try torch.relu(x)"))
    }

    @Test func testRecursiveSourceErrors() throws {
        try Torch.setNumThreads(1)
        let model = NNsightModel(RecursiveToy())
        let x = try Tensor.randn([2, 4])
        #expect(throws: SourceError.outsideTrace(path: "model.source.doubledRelu_0")) {
            _ = try model.root.source.doubledRelu_0.source
        }
        #expect(throws: SourceError.sourceOnModule(path: "model.source.self_fc1_0", module: "model.fc1")) {
            try model.trace(x) { m in _ = try m.source.self_fc1_0.source }
        }
        #expect(throws: SourceError.unknownOperation(path: "model.source.doubledRelu_0", name: "nope_0",
                                                      valid: ["torch_relu_0", "y_0", "y_pow_0"])) {
            try model.trace(x) { m in _ = try m.source.doubledRelu_0.source.nope_0.output }
        }
    }
}
