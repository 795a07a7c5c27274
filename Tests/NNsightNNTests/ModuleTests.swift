import Testing
import NNsightTorch
@testable import NNsightNN

/// nnsight's tiny model: Sequential(layer1=Linear(5, 10), layer2=Linear(10, 2)).
func makeTiny() throws -> Sequential {
    Sequential(named: [("layer1", try Linear(5, 10)), ("layer2", try Linear(10, 2))])
}

/// A block and a net shaped like the ones gen_nn.py prints.
final class Block: Module {
    let ln = try! LayerNorm(4)
    let fc1 = try! Linear(4, 8)
    let act = GELU()
    let fc2 = try! Linear(8, 4, bias: false)
    let drop = Dropout(0.1)
}

final class Net: Module {
    let embed = try! Embedding(16, 4)
    let h = ModuleList((0..<3).map { _ in Block() })
    let norm = try! RMSNorm(4, eps: 1e-6)
    let head = try! Linear(4, 16)
}

final class Mixed: Module {
    let layers = ModuleList<Module>([try! Linear(4, 4), try! Linear(4, 4), try! Linear(4, 8), ReLU()])
}

struct ModuleTreeTests {
    @Test func namesFollowDeclarationOrderAndCheckpointKeys() throws {
        let fixtures = try Fixtures.modules()
        let tiny = try makeTiny()
        #expect(tiny.namedModules().map(\.name) == fixtures.tiny.named_modules)
        #expect(tiny.namedParameters().map(\.name) == fixtures.tiny.named_parameters)
        #expect(Net().stateDict().map(\.name) == fixtures.net_state_dict_keys)
        #expect(Net().module(at: "h.2.fc1") is Linear)
        #expect(Net().module(at: "h.3") == nil)
    }

    @Test func printsLikePyTorchWithCompressedRuns() throws {
        let fixtures = try Fixtures.modules()
        #expect(try makeTiny().description == fixtures.tiny.repr)
        #expect(Net().description == fixtures.net_repr)
        #expect(Mixed().description == fixtures.mixed_repr)
    }

    @Test func loadedWeightsGivePyTorchsOutput() throws {
        let fixtures = try Fixtures.modules()
        let tiny = try makeTiny()
        try tiny.load(stateDict: fixtures.tiny.state_dict.mapValues { try $0.tensor() })
        let output = try tiny(try fixtures.tiny.input.tensor())
        #expect(try maxAbsDifference(output, try fixtures.tiny.output.tensor()) < 1e-6)
    }

    @Test func loadingReportsMissingUnexpectedAndMisshapenKeys() throws {
        let fixtures = try Fixtures.modules()
        let tiny = try makeTiny()
        var weights = try fixtures.tiny.state_dict.mapValues { try $0.tensor() }
        weights["layer2.bias"] = nil
        weights["layer3.weight"] = try Tensor.zeros([1])
        weights["layer1.weight"] = try Tensor.zeros([10, 4])
        let before = try tiny.layer(named: "layer1").weight.value.clone()
        #expect(throws: ModuleError.stateDictMismatch(
            missing: ["layer2.bias"], unexpected: ["layer3.weight"],
            shapes: ["layer1.weight: checkpoint has [10, 4], model has [10, 5]"])) {
            try tiny.load(stateDict: weights)
        }
        // Nothing was replaced by the failed load.
        #expect(try tiny.layer(named: "layer1").weight.value.equal(before))
        // Non-strict loading ignores missing and unexpected keys but never a wrong shape.
        weights["layer1.weight"] = try fixtures.tiny.state_dict["layer1.weight"]!.tensor()
        try tiny.load(stateDict: weights, strict: false)
        #expect(try tiny.layer(named: "layer1").weight.value.equal(weights["layer1.weight"]!))
    }

    @Test func trainAndEvalReachTheWholeTreeAndGateDropout() throws {
        let net = Net()
        #expect(net.namedModules().allSatisfy { $0.module.training })
        net.eval()
        #expect(net.namedModules().allSatisfy { !$0.module.training })
        let drop = Dropout(0.5)
        let x = try Tensor.ones([1000])
        drop.eval()
        #expect(try drop(x).equal(x))
        drop.train()
        let zeros = try (drop(x) .== 0).sum().item(Int.self)
        #expect(zeros > 300 && zeros < 700)
    }

    @Test func convertsParametersToAnotherDtype() throws {
        let net = Net()
        try net.to(.bfloat16)
        #expect(net.parameters.allSatisfy { $0.dtype == .bfloat16 })
    }
}

extension Sequential {
    func layer(named name: String) throws -> Linear {
        try #require(module(at: name) as? Linear)
    }
}
