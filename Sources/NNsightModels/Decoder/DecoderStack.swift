import NNsightNN
import NNsightTorch

/// What a causal LM's head and cache read from the body under it (``DecoderLanguageModel``'s
/// ``DecoderLanguageModel/baseModel``): a ``DecoderStack``, or a module holding one (OPT's
/// `OPTModel`, whose stack is `decoder`).
public protocol DecoderBody: Module {
    /// The decoder layers in order (`layers`; GPT-2: `h`).
    var decoderLayers: [Module] { get }
    /// The token embedding `lm_head` may share its weight with (Python: `get_input_embeddings()`:
    /// `embed_tokens`; GPT-2: `wte`; GPT-NeoX: `embed_in`).
    var tokenEmbedding: Embedding { get }
    /// The largest number of positions, cached and new (Python: `max_position_embeddings`).
    var maxPositions: Int { get }
    /// Each layer's sliding window (how many of the latest keys it sees, Python:
    /// `config.sliding_window`), nil for a layer that sees every key
    /// (``SlidingWindowLayout/layerWindows``). Default: every layer sees every key.
    var layerWindows: [Int?] { get }
}

/// The body of a decoder-only transformer: token ids `[batch, sequence]` in, final hidden states
/// `[batch, sequence, hidden]` out. Python: `LlamaModel`, `GPT2Model`, `GPTNeoXModel`, …, whose
/// `forward`s are one skeleton, written once as ``decoderStackForward(_:_:)``: derive the
/// ``DecoderState`` (masks, positions), embed the tokens, derive the rotary tables (shared, or
/// per layer), run the layers in order, apply the final norm.
///
/// A family's model class keeps its own stored modules, named as transformers names them (the
/// printed tree, checkpoint keys and nnsight paths come from those names), points the
/// requirements below (and ``DecoderBody``'s) at them and forwards in one line (GPT-2):
///
///     public var decoderLayers: [Module] { h.map { $0 } }
///     public var finalNorm: Module? { ln_f }
///     public var tokenEmbedding: Embedding { wte }
///     public func embed(_ input: Tensor, positionIds: Tensor, _ context: ForwardContext) throws -> Tensor {
///         try drop(wte(input, context) + wpe(positionIds, context), context)
///     }
///     public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
///         try decoderStackForward(input, context)
///     }
///
/// A model laid out as `LlamaModel` (`embed_tokens`, `layers`, `norm`, `rotary_emb`) is a
/// ``DecoderModel`` specialised with its family's layer, norm and rotary embedding instead.
public protocol DecoderStack: DecoderBody {
    /// The norm after the last layer (`norm`; GPT-2: `ln_f`; GPT-NeoX: `final_layer_norm`); nil
    /// where there is none (OPT-350m's post-norm layers).
    var finalNorm: Module? { get }
    /// The rotary tables the layers read from their ``DecoderState`` for `positionIds`, in
    /// `dtype`, computed by calling the stack's rotary embedding in `context` (Python: the
    /// `position_embeddings` the model passes its layers). Default: none, for a model whose
    /// positions are embedded instead (GPT-2's `wpe`); a ``DecoderModel``: its rotary
    /// embedding's (``DecoderRotaryEmbedding``).
    func rotaryTables(_ positionIds: Tensor, dtype: DType, _ context: ForwardContext) throws -> LayerRotaryTables
    /// The first layer's input for the token ids `input` at `positionIds` (Python: the
    /// `inputs_embeds` of the model's `forward`: `embed_tokens(input_ids)`, Gemma's scaled one,
    /// GPT-2's `drop(wte(input_ids) + wpe(position_ids))`). `context` is the layers' context
    /// before the rotary tables exist.
    func embed(_ input: Tensor, positionIds: Tensor, _ context: ForwardContext) throws -> Tensor
    /// The positions ``embed(_:positionIds:_:)`` embeds when the caller gives none, where the
    /// family counts them its own way (OPT: padded positions are -1); nil for the shared count
    /// (``DecoderState/positionIds``, which the layers see either way). Default: nil.
    func positionIds(_ input: Tensor, _ context: ForwardContext) throws -> Tensor?
    /// The stack's output from the last layer's: ``finalNorm`` when there is one. Default: that;
    /// OPT projects it out after.
    func finalHidden(_ hidden: Tensor, _ context: ForwardContext) throws -> Tensor
}

/// The rotary tables of one forward pass.
public enum LayerRotaryTables {
    /// No rotary embedding.
    case none
    /// One set for every layer.
    case shared(RotaryTables)
    /// One set per layer, in layer order (Gemma 3: local and global frequencies).
    case perLayer([RotaryTables])
}

extension DecoderBody {
    public var layerWindows: [Int?] { Array(repeating: nil, count: decoderLayers.count) }
}

extension DecoderStack {
    public func positionIds(_ input: Tensor, _ context: ForwardContext) throws -> Tensor? { nil }

    public func finalHidden(_ hidden: Tensor, _ context: ForwardContext) throws -> Tensor {
        try finalNorm.map { try $0(hidden, context) } ?? hidden
    }

    public func rotaryTables(_ positionIds: Tensor, dtype: DType, _ context: ForwardContext) throws -> LayerRotaryTables {
        .none
    }

    /// The window of the sliding layers (one per model), nil when no layer slides.
    var slidingWindow: Int? { layerWindows.lazy.compactMap { $0 }.first }

    /// The `forward` every decoder stack shares (Python: `LlamaModel.forward`): the decoder
    /// state for `input` and the caller's masks, positions and cache; the embedded tokens; the
    /// rotary tables for their positions in the embedding's dtype; every layer in turn with the
    /// state in its context; the final norm. The caller's context is left as it was.
    func decoderStackForward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        var state = try decoderState(input, context, maxPositions: maxPositions, slidingWindow: slidingWindow)
        let embedded = try context.positionIds == nil ? positionIds(input, context) ?? state.positionIds : state.positionIds
        var hidden = try embed(input, positionIds: embedded, context.forLayers(state))
        let tables = try rotaryTables(state.positionIds, dtype: hidden.dtype, context.forLayers(state))
        if case .shared(let shared) = tables { state.rotaryTables = shared }
        let layers = decoderLayers
        if case .perLayer(let perLayer) = tables, perLayer.count != layers.count {
            throw ModelError.invalidInput("\(typeName) derived \(perLayer.count) rotary tables for \(layers.count) layers")
        }
        var inner = context.forLayers(state)
        for (index, layer) in layers.enumerated() {
            if case .perLayer(let perLayer) = tables {
                var own = state
                own.rotaryTables = perLayer[index]
                inner = context.forLayers(own)
            }
            hidden = try layer(hidden, inner)
        }
        return try finalHidden(hidden, inner)
    }
}
