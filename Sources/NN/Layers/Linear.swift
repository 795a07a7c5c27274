import Torch

/// `y = x Wᵀ + b`. Python: `nn.Linear(in_features, out_features, bias=)`; `weight` is
/// `[out_features, in_features]`.
public final class Linear: Module {
    public let weight: Parameter
    public let bias: Parameter?

    /// Initialised as PyTorch does: uniform on ±1/√in_features.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, dtype: DType = .float32,
                device: Device = .cpu) throws {
        let bound = 1 / Double(inFeatures).squareRoot()
        weight = Parameter(try Tensor.empty([outFeatures, inFeatures], dtype: dtype, device: device).uniform_(-bound, bound))
        self.bias = bias ? Parameter(try Tensor.empty([outFeatures], dtype: dtype, device: device).uniform_(-bound, bound)) : nil
    }

    /// A linear layer whose weight is another module's parameter (tied embeddings: the same
    /// `Parameter` object, so loading or converting one updates both).
    public init(sharing weight: Parameter, bias: Parameter? = nil) {
        self.weight = weight
        self.bias = bias
    }

    public var inFeatures: Int { weight.value.shape.last ?? 0 }
    public var outFeatures: Int { weight.value.shape.first ?? 0 }

    /// Multiply float32 CPU inputs by a copy of `weight` kept in oneDNN's blocked layout, made on
    /// first use and again whenever the weight's value is replaced or changed in place; `weight`
    /// itself stays as loaded. It costs a second copy of the weight and pays off for a large
    /// weight applied to few rows, where the kernel would otherwise repack the weight on every
    /// call: the language models set it on `lm_head` (GPT-2's 50257 × 768 at 8 rows: 10.6 ms
    /// against 16.9 ms). Off by default.
    public var packsWeight = false
    private var packing: WeightPacking?

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        if packsWeight, let packed = try packedWeight() {
            return try F.linear(input, weight: weight.value, packed: packed, bias: bias?.value)
        }
        return try F.linear(input, weight: weight.value, bias: bias?.value)
    }

    /// The packed copy of the weight's current value, or nil where there is none (other dtypes and
    /// devices).
    private func packedWeight() throws -> Tensor? {
        let value = weight.value
        if let packing, packing.source === value, packing.version == value.version { return packing.packed }
        let packed = try F.packLinearWeight(value)
        packing = WeightPacking(source: value, version: value.version, packed: packed)
        return packed
    }

    public override var extraDescription: String {
        "in_features=\(inFeatures), out_features=\(outFeatures), bias=\(bias != nil ? "True" : "False")"
    }
}

/// A packed copy of a linear weight and the tensor and version it was made from.
private struct WeightPacking {
    weak var source: Tensor?
    let version: Int
    let packed: Tensor?
}

/// GPT-2's linear layer with a transposed weight: `y = x W + b`, `weight` is `[nx, nf]`.
/// Python: `transformers.pytorch_utils.Conv1D(nf, nx)`.
public final class Conv1D: Module {
    public let weight: Parameter
    public let bias: Parameter

    /// Initialised as transformers does: weight normal(0, 0.02), bias zero.
    public init(nf: Int, nx: Int, dtype: DType = .float32, device: Device = .cpu) throws {
        weight = Parameter(try Tensor.empty([nx, nf], dtype: dtype, device: device).normal_(mean: 0, std: 0.02))
        bias = Parameter(try Tensor.zeros([nf], dtype: dtype, device: device))
    }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try F.linear(input, weight: weight.value.t(), bias: bias.value)
    }

    public override var extraDescription: String {
        "nf=\(weight.value.shape.last ?? 0), nx=\(weight.value.shape.first ?? 0)"
    }
}

/// A lookup table of vectors. Python: `nn.Embedding(num_embeddings, embedding_dim)`.
public final class Embedding: Module {
    public let weight: Parameter
    /// Python: `padding_idx`: the row of the padding token. The forward pass is the same with or
    /// without it; it is printed as PyTorch prints it. (PyTorch also zeroes that row at init and
    /// leaves its gradient out; checkpoints carry the row as trained.)
    public let paddingIndex: Int?

    /// Initialised as PyTorch does: standard normal (the padding row zero).
    public init(_ count: Int, _ dimension: Int, paddingIndex: Int? = nil, dtype: DType = .float32,
                device: Device = .cpu) throws {
        let weight = try Tensor.randn([count, dimension], dtype: dtype, device: device)
        if let paddingIndex, device != .meta { try weight.select(dim: 0, index: paddingIndex).zero_() }
        self.weight = Parameter(weight)
        self.paddingIndex = paddingIndex
    }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try F.embedding(input, weight: weight.value)
    }

    public override var extraDescription: String {
        weight.value.shape.map(String.init).joined(separator: ", ") + (paddingIndex.map { ", padding_idx=\($0)" } ?? "")
    }
}
