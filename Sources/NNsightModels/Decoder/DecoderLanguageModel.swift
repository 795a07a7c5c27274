import NNsightNN
import NNsightTorch

/// A decoder-only language model built as transformers builds its `…ForCausalLM` (GPT-2:
/// `GPT2LMHeadModel`): a ``DecoderStack`` (`model`, `transformer`, `gpt_neox`, …), then the
/// vocabulary projection `lm_head` on the positions the caller keeps (`logits_to_keep`), then
/// whatever the family does to the logits outside any module (Gemma 2's final soft-cap).
///
/// ``DecoderForCausalLM`` is the one every family specialises (its stack stored under the
/// family's name for it); the sizes ``CausalLanguageModel`` asks for come from the modules, and
/// ``languageModelForward(_:_:)`` is its `forward`.
public protocol DecoderLanguageModel: CausalLanguageModel {
    associatedtype BaseModel: DecoderBody

    /// The decoder stack (Python: `model.base_model`).
    var baseModel: BaseModel { get }
    /// The vocabulary projection.
    var lm_head: Linear { get }
    /// The logits `lm_head` gave, as the model returns them (Python: what `…ForCausalLM.forward`
    /// does after `lm_head`, such as Gemma 2's `final_logit_softcapping`; `lm_head.output`
    /// stays the head's own). Default: unchanged.
    func finalLogits(_ logits: Tensor) throws -> Tensor
}

extension DecoderLanguageModel {
    public var vocabularySize: Int { lm_head.outFeatures }
    public var layerCount: Int { baseModel.decoderLayers.count }
    public var maxPositions: Int { baseModel.maxPositions }

    public func finalLogits(_ logits: Tensor) throws -> Tensor { logits }

    /// A ``KVCache`` whose sliding-window layers keep only the keys their window can still see
    /// (``DecoderBody/layerWindows``).
    public func makeCache() -> any KeyValueCache { KVCache(windows: baseModel.layerWindows) }

    /// The `forward` every `…ForCausalLM` shares: the stack, `lm_head` on the last
    /// `context.logitsToKeep` positions (or all), then ``finalLogits(_:)``.
    func languageModelForward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try finalLogits(lm_head(positionsToKeep(baseModel(input, context), context), context))
    }
}

/// The hidden states `[batch, sequence, hidden]` that `lm_head` sees: the last
/// `context.logitsToKeep` positions, or all.
func positionsToKeep(_ hidden: Tensor, _ context: ForwardContext) throws -> Tensor {
    guard let keep = context.logitsToKeep, keep > 0 else { return hidden }
    let length = try hidden.size(1)
    return keep >= length ? hidden : try hidden.narrow(dim: 1, start: length - keep, length: keep)
}

/// The vocabulary projection `lm_head` for `embedding`'s vocabulary and width: sharing the
/// embedding's weight when `tied` (Python: `tie_word_embeddings`), else its own; with `bias`
/// (GPT-J), a bias of its own either way.
func languageModelHead(for embedding: Embedding, tied: Bool, bias: Bool = false, device: Device) throws -> Linear {
    let shape = embedding.weight.shape
    if tied {
        return Linear(sharing: embedding.weight, bias: bias ? Parameter(try Tensor.zeros([shape[0]], device: device)) : nil)
    }
    return try Linear(shape[1], shape[0], bias: bias, device: device)
}

extension ModelConfig {
    /// What every model checks before it allocates anything: ``validate()``, then that the
    /// parameters fit in this machine's memory in float32, the dtype models are built in.
    func checkBuildable(on device: Device) throws {
        try validate()
        try checkFitsInMemory(parameters: parameterCountEstimate, bytesPerParameter: DType.float32.byteCount,
                              device: device, field: sizeField)
    }
}
