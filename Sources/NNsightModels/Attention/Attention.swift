import NNsightNN
import NNsightTorch

/// Multi-head attention over `[batch, heads, sequence, headDim]` queries, keys and values, with
/// the boolean `mask` and grouped-query heads; returns `[batch, sequence, heads × headDim]`.
func attend(query: Tensor, key: Tensor, value: Tensor, mask: Tensor?) throws -> Tensor {
    let groups = try query.size(1) / key.size(1)
    let output = try F.scaledDotProductAttention(query, key, value, mask: mask, enableGQA: groups > 1)
    let shape = query.shape
    return try output.transpose(1, 2).reshape([shape[0], shape[2], shape[1] * shape[3]])
}

/// Splits `[batch, sequence, heads × headDim]` into `[batch, heads, sequence, headDim]`.
func splitHeads(_ x: Tensor, heads: Int) throws -> Tensor {
    let shape = x.shape
    return try x.view([shape[0], shape[1], heads, shape[2] / heads]).transpose(1, 2)
}
