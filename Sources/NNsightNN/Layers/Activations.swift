import NNsightTorch

/// Python: `nn.Dropout(p)`; active only in training mode.
public final class Dropout: Module {
    public let p: Double

    public init(_ p: Double = 0.5) {
        self.p = p
    }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        training && p > 0 ? try F.dropout(input, p: p, training: true) : input
    }

    public override var extraDescription: String { "p=\(pythonFloat(p)), inplace=False" }
}

/// Python: `nn.GELU(approximate=)`.
public final class GELU: Module {
    public let approximate: Functional.GeluApproximation

    public init(approximate: Functional.GeluApproximation = .none) {
        self.approximate = approximate
    }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try F.gelu(input, approximate: approximate)
    }

    public override var extraDescription: String { "approximate='\(approximate == .tanh ? "tanh" : "none")'" }
}

/// GPT-2's `gelu_new`: the tanh approximation of GELU. Python: `NewGELUActivation()`.
public final class NewGELUActivation: Module {
    public override init() {}

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try F.gelu(input, approximate: .tanh)
    }
}

/// Python: `nn.SiLU()`.
public final class SiLU: Module {
    public override init() {}

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor { try F.silu(input) }
}

/// transformers' own SiLU module (what `ACT2FN["silu"]` makes in transformers 5). Python:
/// `SiLUActivation()`.
public final class SiLUActivation: Module {
    public override init() {}

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor { try F.silu(input) }
}

/// Python: `nn.ReLU()`.
public final class ReLU: Module {
    public override init() {}

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor { try F.relu(input) }
}
