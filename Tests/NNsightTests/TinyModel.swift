import NNsightNN
import NNsightTorch
@testable import NNsight

/// nnsight's tiny test model: Sequential(layer1=Linear(5, 10), layer2=Linear(10, 2)).
func makeTiny() throws -> NNsightModel<Sequential> {
    try Torch.setNumThreads(1)
    try Torch.manualSeed(0)
    return NNsightModel(Sequential(named: [("layer1", try Linear(5, 10)), ("layer2", try Linear(10, 2))]))
}

extension NNsightModel where Root == Sequential {
    var layer1: Linear { module.module(at: "layer1") as! Linear }
    var layer2: Linear { module.module(at: "layer2") as! Linear }
}

/// Runs `linear` three times per forward (a recurrent module), for call-count addressing.
final class RecurrentInner: Module {
    let linear = try! Linear(4, 4)

    override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        var x = input
        for _ in 0..<3 { x = try linear(x) }
        return x
    }
}

/// Runs `sub_a` when the input sums positive, else `sub_b`.
final class Branched: Module {
    let sub_a = try! Linear(4, 4)
    let sub_b = try! Linear(4, 4)

    override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try input.sum().item(Float.self) > 0 ? sub_a(input) : sub_b(input)
    }
}

func maxAbsDifference(_ a: Tensor, _ b: Tensor) throws -> Float {
    try (a - b).abs().max().item(Float.self)
}
