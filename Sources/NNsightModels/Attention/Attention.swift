import NNsightNN
import NNsightTorch

/// The operations of an attention layer's marked `forward` that exist only on the explicit path:
/// scores (before the mask and softmax), the pattern (probabilities `[batch, heads, query, key]`)
/// and the weighted values (per head, before the output projection). When a trace hooks one of
/// them the layer computes attention step by step; otherwise it calls the fused kernel.
///
/// A family marks its attention this way (GPT2Attention and LlamaAttention show the pattern):
/// ```swift
/// @Sourced
/// override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
///     let query = …, key = …, value = …      // per head, after rotary: query_0, key_0, value_0
///     let mask = …                           // the layer's boolean mask (causal, padding, window)
///     let attended: Tensor
///     if self.sourceHooked(explicitAttentionOperations) {
///         let scores = try attentionScores(query, key)             // scores_0
///         let pattern = try attentionPattern(scores, mask: mask)   // pattern_0
///         let weighted = try weightedValues(pattern, value)        // weighted_0
///         attended = weighted
///     } else {
///         attended = try fusedAttention(query, key, value, mask: mask)
///     }
///     return try self.o_proj(mergeHeads(attended))
/// }
/// ```
/// A sliding window is part of the mask (Mistral's layers pass theirs); soft-capping, where a
/// family has it, belongs between scores and pattern, as a further operation.
public let explicitAttentionOperations = ["scores_0", "pattern_0", "weighted_0"]

/// The fused kernel (`scaled_dot_product_attention`) over per-head tensors, grouped-query heads
/// included; returns `[batch, heads, query, headDim]`. Marked, so a trace can open it from the
/// layer's operation (`attn.source.fusedAttention_0.source.F_scaledDotProductAttention_0`), as
/// Python's `attention_interface_1.source.torch_nn_functional_scaled_dot_product_attention_0`.
@Sourced
func fusedAttention(_ query: Tensor, _ key: Tensor, _ value: Tensor, mask: Tensor?) throws -> Tensor {
    let groups = try query.size(1) / key.size(1)
    return try F.scaledDotProductAttention(query, key, value, mask: mask, enableGQA: groups > 1)
}

/// Attention scores `query · keyᵀ / √headDim` `[batch, heads, query, key]`, key heads repeated for
/// grouped-query attention. Python: `torch.matmul(query, key.transpose(2, 3)) * scaling`.
func attentionScores(_ query: Tensor, _ key: Tensor) throws -> Tensor {
    let scale = 1.0 / Double(try query.size(-1)).squareRoot()
    return try query.matmul(repeatHeads(key, to: query.size(1)).transpose(-1, -2)) * scale
}

/// The pattern: softmax over keys of the scores with disallowed keys (false in the boolean mask)
/// at -inf. Python: `softmax(attn_weights + causal_mask, dim=-1)`.
func attentionPattern(_ scores: Tensor, mask: Tensor?) throws -> Tensor {
    guard let mask else { return try scores.softmax(dim: -1) }
    return try scores.maskedFill(mask.logicalNot(), -Double.infinity).softmax(dim: -1)
}

/// The values weighted by the pattern, per head: `[batch, heads, query, headDim]`.
func weightedValues(_ pattern: Tensor, _ value: Tensor) throws -> Tensor {
    try pattern.matmul(repeatHeads(value, to: pattern.size(1)))
}

/// `[batch, kvHeads, sequence, headDim]` repeated to `heads` heads (Python: `repeat_kv`).
func repeatHeads(_ x: Tensor, to heads: Int) throws -> Tensor {
    let shape = x.shape
    let groups = heads / shape[1]
    guard groups > 1 else { return x }
    return try x.unsqueeze(2).expand([shape[0], shape[1], groups, shape[2], shape[3]])
        .reshape([shape[0], heads, shape[2], shape[3]])
}

/// `[batch, heads, sequence, headDim]` back to `[batch, sequence, heads × headDim]`.
func mergeHeads(_ x: Tensor) throws -> Tensor {
    let shape = x.shape
    return try x.transpose(1, 2).reshape([shape[0], shape[2], shape[1] * shape[3]])
}

/// Splits `[batch, sequence, heads × headDim]` into `[batch, heads, sequence, headDim]`.
func splitHeads(_ x: Tensor, heads: Int) throws -> Tensor {
    let shape = x.shape
    return try x.view([shape[0], shape[1], heads, shape[2] / heads]).transpose(1, 2)
}
