import NNsightNN
import NNsightTorch

/// The sizes a ``DecoderModel`` reads from its family's config (``LlamaConfig``, whose fields
/// Mixtral, Phi-3, OLMo-2 and Qwen3-MoE reuse, and ``GemmaConfig``).
public protocol DecoderModelConfig: SlidingWindowLayout {
    var vocabSize: Int { get }
    var hiddenSize: Int { get }
    var padTokenId: Int? { get }
    var maxPositionEmbeddings: Int { get }
}

extension LlamaConfig: DecoderModelConfig {}
extension GemmaConfig: DecoderModelConfig {}

/// The rotary embedding of a ``DecoderModel`` (its `rotary_emb`).
public protocol DecoderRotaryEmbedding: Module {
    /// The tables the layers read for `positionIds`, in `dtype`, computed by calling this module
    /// in `context`: one set shared by every layer (``RotaryEmbedding``), or one per layer from
    /// each layer's type in `layerTypes` (Gemma 3's local and global frequencies).
    func layerTables(_ positionIds: Tensor, layerTypes: [LlamaConfig.LayerType], dtype: DType,
                     _ context: ForwardContext) throws -> LayerRotaryTables
}

extension RotaryEmbedding: DecoderRotaryEmbedding {
    /// One set of tables for every layer.
    public func layerTables(_ positionIds: Tensor, layerTypes: [LlamaConfig.LayerType], dtype: DType,
                            _ context: ForwardContext) throws -> LayerRotaryTables {
        .shared(try tables(positionIds, dtype: dtype, context: context))
    }
}

/// Python: `LlamaModel` and every decoder stack transformers lays out as it (`MistralModel`,
/// `Qwen2Model`, `MixtralModel`, `Phi3Model`, `Olmo2Model`, `Qwen3MoeModel`, `GemmaModel`,
/// `Gemma3TextModel`): `embed_tokens`, the decoder `layers`, the final `norm` and `rotary_emb`,
/// token ids in, final hidden states out (``DecoderStack/decoderStackForward(_:_:)``).
///
/// A family names its specialisation and builds it with its layer, norm and rotary embedding;
/// the printed class name is the family's (`className`), not this generic type's:
///
///     /// Python: `Olmo2Model`.
///     public typealias Olmo2Model = DecoderModel<Olmo2DecoderLayer, Olmo2RMSNorm, RotaryEmbedding>
///
///     try Olmo2Model(config, className: "Olmo2Model", device: device,
///                    layer: { try Olmo2DecoderLayer(config, layerIndex: $0, device: device) },
///                    norm: { try Olmo2RMSNorm(config.hiddenSize, config, device: device) },
///                    rotary: { try RotaryEmbedding(config: config, classPrefix: "Olmo2", device: device) })
///
/// A family of Llama's final norm and rotary embedding passes its ``LlamaVariant`` instead:
/// `MixtralModel(config.llama, variant: mixtralVariant, device: device) { try MixtralDecoderLayer(config, layerIndex: $0, device: device) }`.
public final class DecoderModel<Layer: Module, Norm: Module, Rotary: DecoderRotaryEmbedding>: Module, DecoderStack {
    /// The token embedding (Gemma: its `…TextScaledWordEmbedding`).
    public let embed_tokens: Embedding
    public let layers: ModuleList<Layer>
    public let norm: Norm
    public let rotary_emb: Rotary
    public let maxPositions: Int
    public let layerWindows: [Int?]
    /// Each layer's attention type, which ``rotary_emb`` may rotate by (Gemma 3).
    let layerTypes: [LlamaConfig.LayerType]
    /// transformers' class name (`LlamaModel`, `Gemma3TextModel`), as printed.
    let className: String

    /// Builds, in transformers' order, the token embedding (`embedding`, or a plain one of the
    /// config's vocabulary and width, `pad_token_id` its padding index), one layer per
    /// `num_hidden_layers` (`layer` gets its index), the final norm and the rotary embedding.
    init(_ config: some DecoderModelConfig, className: String, device: Device,
         embedding: (() throws -> Embedding)? = nil, layer: (Int) throws -> Layer,
         norm: () throws -> Norm, rotary: () throws -> Rotary) throws {
        embed_tokens = try embedding?()
            ?? Embedding(config.vocabSize, config.hiddenSize, paddingIndex: config.padTokenId, device: device)
        layers = ModuleList(try (0..<config.numHiddenLayers).map(layer))
        self.norm = try norm()
        rotary_emb = try rotary()
        maxPositions = config.maxPositionEmbeddings
        layerWindows = config.layerWindows
        layerTypes = (0..<config.numHiddenLayers).map(config.layerType)
        self.className = className
    }

    public override var typeName: String { className }

    public var decoderLayers: [Module] { layers.map { $0 } }
    public var finalNorm: Module? { norm }
    public var tokenEmbedding: Embedding { embed_tokens }

    public func embed(_ input: Tensor, positionIds: Tensor, _ context: ForwardContext) throws -> Tensor {
        try embed_tokens(input, context)
    }

    public func rotaryTables(_ positionIds: Tensor, dtype: DType, _ context: ForwardContext) throws -> LayerRotaryTables {
        try rotary_emb.layerTables(positionIds, layerTypes: layerTypes, dtype: dtype, context)
    }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try decoderStackForward(input, context)
    }
}
