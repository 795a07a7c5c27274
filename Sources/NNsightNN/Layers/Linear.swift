import NNsightTorch

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

    public var inFeatures: Int { weight.shape.last ?? 0 }
    public var outFeatures: Int { weight.shape.first ?? 0 }

    /// Multiplies by the weight's packed form when it has one (``Module/packLinearWeights()``).
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        if let forms = try weight.linearForms() {
            return try F.linear(input, packed: forms.packed, plain: forms.plain, bias: bias?.value)
        }
        return try F.linear(input, weight: weight.value, bias: bias?.value)
    }

    public override var extraDescription: String {
        "in_features=\(inFeatures), out_features=\(outFeatures), bias=\(bias != nil ? "True" : "False")"
    }
}

extension Module {
    /// Holds the weights of every `Linear` in this tree in oneDNN's packed layout where it has one
    /// (float32 and bfloat16 CPU weights of at least 65,536 elements), so that products read the
    /// weight as stored instead of repacking it on every call: 1.2–1.6× faster linear layers for
    /// 1–128 rows on this machine. The plain weight is dropped (one copy in memory) unless another
    /// module also reads it (tied embeddings keep both, the plain one laid out transposed, which
    /// one-row float32 products then use); reading `weight.value` unpacks it again.
    /// `Models.load` and `Checkpoint.loadWeights` call it; a new value for a weight (loading,
    /// `to(_:)`) drops its packed form until this is called again.
    ///
    /// With `packingShared` false, a weight another module also reads is not packed but held in
    /// one form, the transposed plain one (what one-row products read anyway): a tied embedding
    /// is then held once instead of twice, at the price of unpacked multi-row products in the
    /// head. `replaced` is called with each plain value this replaced (dropped, or copied into the
    /// transposed layout), right after and before the next weight: a loader gives back the
    /// memory-mapped pages it read from there, so that a load holds each weight once. A weight
    /// copied into the transposed layout is handed over in blocks of rows, each as soon as it is
    /// copied, so that not even one tied embedding is held twice; one a loader has already filled
    /// in the transposed layout (``sharedLinearWeightNames()``) is left as it is.
    public func packLinearWeights(packingShared: Bool = true, replaced: (Tensor) throws -> Void = { _ in }) throws {
        let modules = namedModules()
        let owners = ownerCounts(modules)
        var done = Set<ObjectIdentifier>()
        for case let (_, linear as Linear) in modules {
            let weight = linear.weight
            guard done.insert(ObjectIdentifier(weight)).inserted, let plain = weight.plainValue, !weight.isPacked,
                  !plain.requiresGrad else { continue }
            let shared = owners[ObjectIdentifier(weight), default: 0] > 1
            if shared && !packingShared {
                guard plain.device == .cpu, plain.isContiguous, plain.rank == 2 else { continue }
                weight.value = try transposedLayout(of: plain, replaced: replaced)
                continue
            }
            try weight.packForLinear(keepingValue: shared)
            if weight.isPacked { try replaced(plain) }
        }
    }

    /// The names (as `namedParameters()` gives them) of the linear weights that another module
    /// also reads: those ``packLinearWeights(packingShared:replaced:)`` holds in the transposed
    /// layout when `packingShared` is false (a tied head's embedding), so that a loader can fill
    /// them in that layout directly.
    package func sharedLinearWeightNames() -> Set<String> {
        let modules = namedModules()
        let owners = ownerCounts(modules)
        let linearWeights = Set(modules.compactMap { ($0.module as? Linear).map { ObjectIdentifier($0.weight) } })
        return Set(namedParameters().filter { named in
            let id = ObjectIdentifier(named.parameter)
            return linearWeights.contains(id) && owners[id, default: 0] > 1
        }.map(\.name))
    }

    /// How many modules of `modules` hold each parameter.
    private func ownerCounts(_ modules: [(name: String, module: Module)]) -> [ObjectIdentifier: Int] {
        var owners: [ObjectIdentifier: Int] = [:]
        for (_, module) in modules {
            for (_, parameter) in module.ownParameters { owners[ObjectIdentifier(parameter), default: 0] += 1 }
        }
        return owners
    }

    /// Runs `body`, which gives parameters new values (dropping their packed forms), then packs
    /// the linear weights again if any was packed before.
    func keepingLinearWeightsPacked(_ body: () throws -> Void) throws {
        let packed = namedParameters().contains { $0.parameter.isPacked }
        try body()
        if packed { try packLinearWeights() }
    }
}

/// `plain` `[out, in]` (contiguous) copied into the transposed layout, `[out, in]` viewing an
/// `[in, out]` contiguous tensor, a block of rows (about `blockElements` elements) at a time;
/// `replaced` is called with each block of `plain` right after it is copied.
func transposedLayout(of plain: Tensor, blockElements: Int = 1 << 20,
                      replaced: (Tensor) throws -> Void) throws -> Tensor {
    let rows = plain.shape[0], columns = plain.shape[1]
    let transposed = try Tensor.empty([columns, rows], dtype: plain.dtype, device: plain.device)
    let blockRows = max(1, blockElements / max(columns, 1))
    for start in stride(from: 0, to: rows, by: blockRows) {
        let length = min(blockRows, rows - start)
        let block = try plain.narrow(dim: 0, start: start, length: length)
        try transposed.narrow(dim: 1, start: start, length: length).copy_(block.t())
        try replaced(block)
    }
    return try transposed.t()
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

/// A lookup table of vectors. Python: `nn.Embedding(num_embeddings, embedding_dim)`. Open for the
/// families that scale it in place (Gemma's `GemmaTextScaledWordEmbedding`).
open class Embedding: Module {
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

    open override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try F.embedding(input, weight: weight.value)
    }

    open override var extraDescription: String {
        weight.value.shape.map(String.init).joined(separator: ", ") + (paddingIndex.map { ", padding_idx=\($0)" } ?? "")
    }
}
