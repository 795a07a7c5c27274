internal import CNNsightTorch

/// Neural-network functions. Python: `torch.nn.functional` (`F.linear`, `F.gelu`, …).
public enum Functional {
    /// How `gelu` approximates. Python: `approximate="none" | "tanh"`.
    public enum GeluApproximation: Sendable { case none, tanh }

    /// How a loss is reduced. Python: `reduction="none" | "mean" | "sum"`.
    public enum Reduction: Int32, Sendable { case none = 0, mean = 1, sum = 2 }

    /// Python: `F.linear(x, weight, bias)`: `x @ weight.T + bias`.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) throws(TorchError) -> Tensor {
        try withExtendedLifetime(bias) { () throws(TorchError) in
            try produce { ctorch_linear(x.handle, weight.handle, bias?.handle, $0) }
        }
    }

    /// The linear weight `[out, in]` in oneDNN's blocked layout, for `linear(_:packed:bias:)`: a
    /// new tensor of the same shape whose layout the inner-product kernel reads as stored, instead
    /// of repacking the weight on every call (1.2–1.6× faster products for 1–128 rows on this
    /// machine). Nil where that layout is unavailable or not worth it: dtypes other than float32
    /// and bfloat16, other devices, weights under 65,536 elements. Python:
    /// `torch.ops.mkldnn._reorder_linear_weight(weight)`.
    public static func packLinearWeight(_ weight: Tensor) throws(TorchError) -> Tensor? {
        var out: ctorch_tensor?
        let status = ctorch_linear_pack_weight(weight.handle, &out)
        guard status == CTORCH_OK else { throw TorchError.last(status) }
        return out.map { Tensor(owning: $0) }
    }

    /// The plain weight back from `packLinearWeight(_:)`'s packed form: a new tensor, equal to the
    /// weight that was packed. Python: `packed.to_dense()`.
    public static func unpackLinearWeight(_ packed: Tensor) throws(TorchError) -> Tensor {
        try produce { ctorch_linear_unpack_weight(packed.handle, $0) }
    }

    /// `linear(x, weight:, bias:)` with the weight in its packed form (`packLinearWeight(_:)`), and
    /// its plain form where the caller holds it: one float32 row against a plain weight stored
    /// transposed (`w.t()` contiguous) runs MKL's GEMV on it, which is faster there; otherwise
    /// oneDNN's inner product on the packed form where it applies, else (autograd recording, an
    /// input of another dtype) the plain product, with the weight unpacked for this call if
    /// `plain` is nil.
    public static func linear(_ x: Tensor, packed: Tensor, plain: Tensor? = nil, bias: Tensor? = nil) throws(TorchError)
        -> Tensor
    {
        try withExtendedLifetime((plain, bias)) { () throws(TorchError) in
            try produce { ctorch_linear_packed(x.handle, packed.handle, plain?.handle, bias?.handle, $0) }
        }
    }

    /// Python: `F.embedding(indices, weight)`.
    public static func embedding(_ indices: Tensor, weight: Tensor) throws(TorchError) -> Tensor {
        try produce { ctorch_embedding(weight.handle, indices.handle, $0) }
    }

    /// Python: `F.layer_norm(x, normalized_shape, weight, bias, eps)`.
    public static func layerNorm(_ x: Tensor, normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil,
                                 eps: Double = 1e-5) throws(TorchError) -> Tensor {
        let shape = normalizedShape.map { Int64($0) }
        return try withExtendedLifetime((weight, bias)) { () throws(TorchError) in
            try produce { ctorch_layer_norm(x.handle, shape, shape.count, weight?.handle, bias?.handle, eps, $0) }
        }
    }

    /// Python: `F.rms_norm(x, normalized_shape, weight, eps)`; `eps: nil` uses the dtype's epsilon.
    public static func rmsNorm(_ x: Tensor, normalizedShape: [Int], weight: Tensor? = nil, eps: Double? = nil)
        throws(TorchError) -> Tensor
    {
        let shape = normalizedShape.map { Int64($0) }
        return try withExtendedLifetime(weight) { () throws(TorchError) in
            try produce { ctorch_rms_norm(x.handle, shape, shape.count, weight?.handle, eps != nil, eps ?? 0, $0) }
        }
    }

    /// Python: `F.gelu(x, approximate=)`.
    public static func gelu(_ x: Tensor, approximate: GeluApproximation = .none) throws(TorchError) -> Tensor {
        try unaryOp(approximate == .tanh ? ctorch_gelu_tanh : ctorch_gelu, x)
    }

    /// Python: `F.silu(x)`.
    public static func silu(_ x: Tensor) throws(TorchError) -> Tensor { try unaryOp(ctorch_silu, x) }
    /// Python: `F.relu(x)`.
    public static func relu(_ x: Tensor) throws(TorchError) -> Tensor { try unaryOp(ctorch_relu, x) }
    /// Python: `F.softmax(x, dim)`.
    public static func softmax(_ x: Tensor, dim: Int) throws(TorchError) -> Tensor { try x.softmax(dim: dim) }
    /// Python: `F.log_softmax(x, dim)`.
    public static func logSoftmax(_ x: Tensor, dim: Int) throws(TorchError) -> Tensor { try x.logSoftmax(dim: dim) }

    /// Python: `F.dropout(x, p, training)`.
    public static func dropout(_ x: Tensor, p: Double = 0.5, training: Bool = true) throws(TorchError) -> Tensor {
        let run = { () throws(TorchError) in try produce { ctorch_dropout(x.handle, p, training, $0) } }
        return training && p > 0 ? try Torch.withDefaultGenerator(run) : try run()
    }

    /// Python: `F.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal, scale, enable_gqa)`.
    /// A boolean mask marks positions that may be attended (true); a floating mask is added.
    public static func scaledDotProductAttention(
        _ query: Tensor, _ key: Tensor, _ value: Tensor, mask: Tensor? = nil, dropout: Double = 0,
        isCausal: Bool = false, scale: Double? = nil, enableGQA: Bool = false
    ) throws(TorchError) -> Tensor {
        let run = { () throws(TorchError) in
            try withExtendedLifetime(mask) { () throws(TorchError) in
                try produce {
                    ctorch_scaled_dot_product_attention(query.handle, key.handle, value.handle, mask?.handle, dropout,
                                                        isCausal, scale != nil, scale ?? 0, enableGQA, $0)
                }
            }
        }
        // Only a dropout draws from the default generator.
        return dropout > 0 ? try Torch.withDefaultGenerator(run) : try run()
    }

    /// Python: `F.cross_entropy(logits, target, ignore_index=, reduction=, label_smoothing=)`.
    public static func crossEntropy(_ logits: Tensor, _ target: Tensor, reduction: Reduction = .mean,
                                    ignoreIndex: Int = -100, labelSmoothing: Double = 0) throws(TorchError) -> Tensor {
        try produce {
            ctorch_cross_entropy(logits.handle, target.handle, reduction.rawValue, Int64(ignoreIndex), labelSmoothing, $0)
        }
    }
}

/// Python's customary `F`.
public typealias F = Functional

extension Tensor {
    /// Python: `x.relu()`.
    public func relu() throws(TorchError) -> Tensor { try unaryOp(ctorch_relu, self) }
    /// Python: `F.silu(x)`.
    public func silu() throws(TorchError) -> Tensor { try unaryOp(ctorch_silu, self) }
    /// Python: `F.gelu(x, approximate=)`.
    public func gelu(approximate: Functional.GeluApproximation = .none) throws(TorchError) -> Tensor {
        try Functional.gelu(self, approximate: approximate)
    }
}
