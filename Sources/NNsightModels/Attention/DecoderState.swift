import NNsightNN
import NNsightTorch

/// What a decoder stack derives once per forward pass from the caller's ``ForwardContext`` and
/// hands to every layer in its own copy of the context (Python: the `causal_mask`,
/// `position_ids` and `position_embeddings` that `LlamaModel.forward` passes to its layers).
public struct DecoderState: DerivedForwardState {
    /// The boolean `[batch, 1, queries, keys]` mask of full-attention layers (true: may attend):
    /// causal, minus padded keys.
    public var attentionMask: Tensor
    /// The mask of sliding-window layers: ``attentionMask`` limited to the last `window` keys of
    /// each query, over the keys a sliding layer holds (fewer than ``attentionMask``'s columns
    /// when the cache trims sliding layers); nil when the model has no sliding window.
    public var slidingWindowMask: Tensor?
    /// The positions of the new tokens, `[batch, sequence]` (given by the caller, or counted).
    public var positionIds: Tensor
    /// The rotary cosine and sine tables for ``positionIds`` (rotary models only).
    public var rotaryTables: RotaryTables?

    public var names: [String] {
        ["causal_mask"] + (slidingWindowMask == nil ? [] : ["sliding_window_mask"])
            + (rotaryTables == nil ? [] : ["position_embeddings"])
    }

    /// A copy on `device`, for a layer placed there (a model split over devices).
    public func moved(to device: Device) throws -> any DerivedForwardState {
        func move(_ tensor: Tensor) throws -> Tensor { tensor.device == device ? tensor : try tensor.to(device: device) }
        var moved = self
        moved.attentionMask = try move(attentionMask)
        moved.slidingWindowMask = try slidingWindowMask.map(move)
        moved.positionIds = try move(positionIds)
        moved.rotaryTables = try rotaryTables.map { RotaryTables(cos: try move($0.cos), sin: try move($0.sin)) }
        return moved
    }

    /// The mask for a layer that attends over a sliding window (`sliding`) or over every key.
    public func mask(sliding: Bool) -> Tensor {
        sliding ? slidingWindowMask ?? attentionMask : attentionMask
    }
}

extension ForwardContext {
    /// The decoder state its model derived; throws naming `module` when called outside a model
    /// (a layer called by hand with the caller's context).
    func decoderState(for module: String) throws -> DecoderState {
        guard let state = derived(as: DecoderState.self) else {
            throw ModelError.invalidInput(
                "\(module) needs the masks its model derives (call it through the model, or pass the context its input came with: `.inputs.context`)")
        }
        return state
    }

    /// A copy for the model's layers: the positions filled in and `state` attached. The
    /// caller's context is a separate value and stays as it was.
    func forLayers(_ state: DecoderState) -> ForwardContext {
        var inner = self
        inner.positionIds = state.positionIds
        inner.derived = state
        return inner
    }
}

/// Derives the decoder state for `inputIds` `[batch, sequence]`: the boolean attention masks
/// over cached and new tokens, and position ids (unless given). `slidingWindow`: how many of
/// the latest keys a sliding-window layer sees (Python: `config.sliding_window`).
func decoderState(_ inputIds: Tensor, _ context: ForwardContext, maxPositions: Int,
                  slidingWindow: Int? = nil) throws -> DecoderState {
    guard inputIds.rank == 2 else {
        throw ModelError.invalidInput("input ids must be [batch, sequence], got shape \(inputIds.shape)")
    }
    let batch = try inputIds.size(0), queries = try inputIds.size(1)
    let past = context.cache?.length ?? 0
    let attentionMask = context.attentionMask
    if let attentionMask, attentionMask.shape != [batch, past + queries] {
        throw ModelError.invalidInput(
            "attention mask must be [batch, cached + new tokens] = [\(batch), \(past + queries)], got \(attentionMask.shape)")
    }
    guard past + queries <= maxPositions else {
        throw ModelError.invalidInput("\(past + queries) positions exceed the model's maximum of \(maxPositions)")
    }
    if let given = context.positionIds, given.shape != [batch, queries] {
        throw ModelError.invalidInput("position ids must be [batch, sequence] = [\(batch), \(queries)], got \(given.shape)")
    }
    let device = inputIds.device
    let full = try causalAttentionMask(queries: queries, past: past, attentionMask: attentionMask, device: device)
    let sliding = try slidingWindow.map { window in
        let mask = try causalAttentionMask(queries: queries, past: past, attentionMask: attentionMask, window: window,
                                           device: device)
        // A cache that trims sliding layers (KVCache(windows:)) holds only their latest keys: the
        // mask's columns are those keys and the new ones. The dropped keys are outside every new
        // query's window, so this only removes columns that were masked anyway.
        let kept = context.cache?.cachedKeyCount(window: window) ?? past
        return kept == past ? mask : try mask.narrow(dim: -1, start: past - kept, length: kept + queries)
    }
    let positions = try context.positionIds
        ?? positionIds(queries: queries, past: past, batch: batch, attentionMask: attentionMask, device: device)
    return DecoderState(attentionMask: full, slidingWindowMask: sliding, positionIds: positions)
}
