import NNsightTorch

/// Python: `nn.LayerNorm(normalized_shape, eps=, elementwise_affine=, bias=)`.
public final class LayerNorm: Module {
    public let weight: Parameter?
    public let bias: Parameter?
    public let normalizedShape: [Int]
    public let eps: Double

    public init(_ normalizedShape: [Int], eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true,
                dtype: DType = .float32, device: Device = .cpu) throws {
        self.normalizedShape = normalizedShape
        self.eps = eps
        weight = elementwiseAffine ? Parameter(try Tensor.ones(normalizedShape, dtype: dtype, device: device)) : nil
        self.bias = elementwiseAffine && bias ? Parameter(try Tensor.zeros(normalizedShape, dtype: dtype, device: device)) : nil
    }

    public convenience init(_ dimension: Int, eps: Double = 1e-5) throws {
        try self.init([dimension], eps: eps)
    }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try F.layerNorm(input, normalizedShape: normalizedShape, weight: weight?.value, bias: bias?.value, eps: eps)
    }

    public override var extraDescription: String {
        "(\(normalizedShape.map(String.init).joined(separator: ", ")),), eps=\(pythonFloat(eps)), elementwise_affine=\(weight != nil ? "True" : "False"), bias=\(bias != nil ? "True" : "False")"
    }
}

/// Python: `nn.RMSNorm(normalized_shape, eps=)`.
open class RMSNorm: Module {
    public let weight: Parameter
    public let eps: Double?

    public init(_ dimension: Int, eps: Double? = nil, dtype: DType = .float32, device: Device = .cpu) throws {
        weight = Parameter(try Tensor.ones([dimension], dtype: dtype, device: device))
        self.eps = eps
    }

    open override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try F.rmsNorm(input, normalizedShape: weight.value.shape, weight: weight.value, eps: eps)
    }

    open override var extraDescription: String {
        "(\(weight.value.shape.map(String.init).joined(separator: ", ")),), eps=\(eps.map(pythonFloat) ?? "None"), elementwise_affine=True"
    }
}

/// A float printed as Python prints it (`1e-05`, `0.1`, `1.0`): Swift's shortest round-trip form
/// agrees with Python's `repr` for these.
public func pythonFloat(_ value: Double) -> String { String(value) }
