import NNsightNN
import NNsightTorch

/// Multi-head attention over `[batch, heads, sequence, headDim]` queries, keys and values, with
/// the model's boolean mask from the context and grouped-query heads; returns
/// `[batch, sequence, heads × headDim]`.
func attend(query: Tensor, key: Tensor, value: Tensor, context: ForwardContext) throws -> Tensor {
    let groups = try query.size(1) / key.size(1)
    let output = try F.scaledDotProductAttention(query, key, value, mask: context[.attentionBias], enableGQA: groups > 1)
    let shape = query.shape
    return try output.transpose(1, 2).reshape([shape[0], shape[2], shape[1] * shape[3]])
}

/// Splits `[batch, sequence, heads × headDim]` into `[batch, heads, sequence, headDim]`.
func splitHeads(_ x: Tensor, heads: Int) throws -> Tensor {
    let shape = x.shape
    return try x.view([shape[0], shape[1], heads, shape[2] / heads]).transpose(1, 2)
}

/// Builds the context a decoder stack needs for `inputIds` `[batch, sequence]`: the boolean
/// attention mask over cached and new tokens, and position ids (unless given).
func prepareDecoderContext(_ inputIds: Tensor, _ context: ForwardContext, maxPositions: Int) throws -> Tensor {
    guard inputIds.rank == 2 else {
        throw ModelError.invalidInput("input ids must be [batch, sequence], got shape \(inputIds.shape)")
    }
    let batch = try inputIds.size(0), queries = try inputIds.size(1)
    let past = context[.cache]?.length ?? 0
    let attentionMask = context[.attentionMask]
    if let attentionMask, attentionMask.shape != [batch, past + queries] {
        throw ModelError.invalidInput(
            "attention mask must be [batch, cached + new tokens] = [\(batch), \(past + queries)], got \(attentionMask.shape)")
    }
    guard past + queries <= maxPositions else {
        throw ModelError.invalidInput("\(past + queries) positions exceed the model's maximum of \(maxPositions)")
    }
    context[.attentionBias] = try causalAttentionMask(queries: queries, past: past, attentionMask: attentionMask,
                                                       device: inputIds.device)
    if let given = context[.positionIds] { return given }
    let positions = try positionIds(queries: queries, past: past, batch: batch, attentionMask: attentionMask,
                                    device: inputIds.device)
    context[.positionIds] = positions
    return positions
}
