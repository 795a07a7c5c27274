import NNsightTorch

/// The boolean attention mask `[batch, 1, queries, keys]` (true: may attend) for `queries` new
/// tokens after `past` cached ones: causal, minus padded keys.
///
/// With `window`, each query sees only the keys `window` positions back or fewer (itself
/// included), as transformers' sliding-window mask (`kv_idx > q_idx - sliding_window`).
///
/// A padded query row would see no key at all and make attention produce NaN, which would then
/// leak through the values of later layers; such rows may attend to themselves instead (their
/// outputs are never used), as transformers' SDPA path does.
func causalAttentionMask(queries: Int, past: Int, attentionMask: Tensor?, window: Int? = nil,
                         device: Device) throws -> Tensor {
    let keys = past + queries
    let queryPositions = try Tensor.arange(past, keys, device: device).unsqueeze(1)
    let keyPositions = try Tensor.arange(0, keys, device: device).unsqueeze(0)
    var causal = try keyPositions .<= queryPositions
    if let window { causal = try causal .&& (keyPositions .> (queryPositions - window)) }
    var allowed = try causal.unsqueeze(0).unsqueeze(0)                              // [1, 1, q, k]
    if let attentionMask {
        let keep = try (attentionMask .!= 0).unsqueeze(1).unsqueeze(2)                 // [b, 1, 1, k]
        let diagonal = try (keyPositions .== queryPositions).unsqueeze(0).unsqueeze(0)
        allowed = try (allowed .&& keep) .|| diagonal
    }
    return allowed
}

/// Positions of the new tokens: `past, past+1, …`, or, with padding, each row's count of real
/// tokens before it (Python: `(attention_mask.cumsum(-1) - 1).clamp(min=0)`).
func positionIds(queries: Int, past: Int, batch: Int, attentionMask: Tensor?, device: Device) throws -> Tensor {
    guard let attentionMask else {
        return try Tensor.arange(past, past + queries, device: device).unsqueeze(0).expand([batch, queries])
    }
    // `clamp` with a floating-point bound promotes to float, as in PyTorch: back to int64.
    let positions = try (attentionMask.to(.int64).cumsum(dim: -1) - 1).clamp(min: 0).to(.int64)
    return try positions.narrow(dim: 1, start: positions.size(1) - queries, length: queries)
}
