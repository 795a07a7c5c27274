// Port of transformers' models/gemma/modeling_gemma.py (GemmaForCausalLM),
// models/gemma2/modeling_gemma2.py (Gemma2ForCausalLM) and models/gemma3/modeling_gemma3.py
// (Gemma3ForCausalLM, the text model), with the same module names, so checkpoint keys and nnsight
// paths (`model.layers.0.self_attn`) carry over. Gemma 2 adds norms after attention and MLP,
// attention and final-logit soft-capping and alternating sliding-window layers; Gemma 3 adds
// RMSNorms over each query and key head and a rotary base per layer type (local and global).
import Foundation
import NNsightNN
import NNsightTorch

/// How a Gemma generation differs in code (its `config.json` says the rest).
public struct GemmaVariant: Sendable, Equatable {
    /// The prefix of transformers' class names (`Gemma2Attention`).
    public var classPrefix: String
    /// Gemma 2: `post_attention_layernorm` normalises the attention output and
    /// `pre_feedforward_layernorm` / `post_feedforward_layernorm` wrap the MLP; Gemma: the Llama
    /// layout (`post_attention_layernorm` before the MLP).
    public var sandwichNorms: Bool
    /// Gemma 3: `q_norm` and `k_norm` over each head (after the heads are split, before rotary).
    public var queryKeyNorm = false
    /// transformers' name of the decoder stack (`Gemma3TextModel`; else `<prefix>Model`).
    public var modelClassName: String?

    public static let gemma = GemmaVariant(classPrefix: "Gemma", sandwichNorms: false)
    public static let gemma2 = GemmaVariant(classPrefix: "Gemma2", sandwichNorms: true)
    public static let gemma3 = GemmaVariant(classPrefix: "Gemma3", sandwichNorms: true, queryKeyNorm: true,
                                            modelClassName: "Gemma3TextModel")
}

/// Python: `GemmaRMSNorm`: normalises in float32 and scales by `1 + weight` (checkpoints store
/// the offset from one).
public final class GemmaRMSNorm: RMSNorm {
    var typePrefix = "Gemma"

    convenience init(_ dimension: Int, eps: Double, variant: GemmaVariant, device: Device) throws {
        try self.init(dimension, eps: eps, device: device)
        typePrefix = variant.classPrefix
    }

    public override var typeName: String { typePrefix + "RMSNorm" }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let dtype = input.dtype
        let scale = try weight.value.to(.float32) + 1
        let normalized = try F.rmsNorm(input.to(.float32), normalizedShape: weight.value.shape, eps: eps ?? 1e-6)
        return try (normalized * scale).to(dtype)
    }

    public override var extraDescription: String {
        "(\(weight.value.shape.map(String.init).joined(separator: ", ")),), eps=\(pythonFloat(eps ?? 1e-6))"
    }
}

/// Python: `GemmaTextScaledWordEmbedding`: the embedding times `sqrt(hidden_size)`, in the
/// weight's dtype.
public final class GemmaTextScaledWordEmbedding: Embedding {
    /// `hidden_size ** 0.5` (Python: the `embed_scale` buffer, not in checkpoints).
    public let embedScale: Double
    var typePrefix = "Gemma"

    init(_ config: GemmaConfig, variant: GemmaVariant, device: Device) throws {
        embedScale = Double(config.hiddenSize).squareRoot()
        typePrefix = variant.classPrefix
        try super.init(config.vocabSize, config.hiddenSize, paddingIndex: config.padTokenId, device: device)
    }

    public override var typeName: String { typePrefix + "TextScaledWordEmbedding" }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let embedded = try super.forward(input, context)
        // Python rounds the scale to the weight's dtype first (`embed_scale.to(weight.dtype)`).
        let scale = try Tensor.full([], Double(Float(embedScale)), dtype: .float32).to(embedded.dtype)
        return try embedded * scale
    }
}

/// Python: `GELUTanh` (`hidden_activation: "gelu_pytorch_tanh"`).
public final class GELUTanh: Module {
    public override init() {}

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try F.gelu(input, approximate: .tanh)
    }
}

/// Python: `GemmaMLP` (GeGLU): Llama's gated MLP (``LlamaMLP``) without biases, with GELU.
public typealias GemmaMLP = LlamaMLP

extension LlamaMLP {
    /// Gemma's: no biases, GELU (tanh-approximated unless `hidden_activation` is `gelu`).
    convenience init(_ config: GemmaConfig, variant: GemmaVariant, device: Device) throws {
        try self.init(hiddenSize: config.hiddenSize, intermediateSize: config.intermediateSize, bias: false,
                      activation: config.hiddenActivation == "gelu" ? GELUActivation() : GELUTanh(),
                      classPrefix: variant.classPrefix, device: device)
    }
}

/// Python: `GemmaAttention` / `Gemma2Attention` / `Gemma3Attention`: grouped-query, rotary, scores
/// scaled by `query_pre_attn_scalar ** -0.5` and (Gemma 2) soft-capped; sliding-window layers see
/// the last `sliding_window` keys. Gemma 3 norms each query and key head first; transformers'
/// Gemma 3 does not soft-cap its scores (it never passes `attn_logit_softcapping` on), nor does this.
public final class GemmaAttention: Module {
    public let q_proj: Linear
    public let k_proj: Linear
    public let v_proj: Linear
    public let o_proj: Linear
    /// Gemma 3: RMSNorm (`1 + w`) of each query head over `head_dim`.
    public let q_norm: GemmaRMSNorm?
    /// Gemma 3: RMSNorm of each key head.
    public let k_norm: GemmaRMSNorm?
    let heads: Int
    let kvHeads: Int
    let layerIndex: Int
    let sliding: Bool
    let scaling: Double
    let softcap: Double?
    let typePrefix: String

    init(_ config: GemmaConfig, variant: GemmaVariant, layerIndex: Int, device: Device) throws {
        let d = config.headDim
        q_proj = try Linear(config.hiddenSize, config.numAttentionHeads * d, bias: config.attentionBias, device: device)
        k_proj = try Linear(config.hiddenSize, config.numKeyValueHeads * d, bias: config.attentionBias, device: device)
        v_proj = try Linear(config.hiddenSize, config.numKeyValueHeads * d, bias: config.attentionBias, device: device)
        o_proj = try Linear(config.numAttentionHeads * d, config.hiddenSize, bias: config.attentionBias, device: device)
        q_norm = variant.queryKeyNorm ? try GemmaRMSNorm(d, eps: config.rmsNormEps, variant: variant, device: device) : nil
        k_norm = variant.queryKeyNorm ? try GemmaRMSNorm(d, eps: config.rmsNormEps, variant: variant, device: device) : nil
        heads = config.numAttentionHeads
        kvHeads = config.numKeyValueHeads
        self.layerIndex = layerIndex
        sliding = config.layerType(layerIndex) == .slidingAttention
        scaling = config.attentionScaling
        softcap = config.attnLogitSoftcapping
        typePrefix = variant.classPrefix
    }

    public override var typeName: String { typePrefix + "Attention" }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let state = try context.decoderState(for: typeName)
        guard let tables = state.rotaryTables else {
            throw ModelError.invalidInput("\(typeName) needs the rotary tables its model derives (call it through the model)")
        }
        let query = try applyRotary(headsNormed(self.q_proj(input), heads: heads, norm: q_norm, context), tables)
        var key = try applyRotary(headsNormed(self.k_proj(input), heads: kvHeads, norm: k_norm, context), tables)
        var value = try splitHeads(self.v_proj(input), heads: kvHeads)
        if let cache = context.cache {
            (key, value) = try cache.update(layer: layerIndex, keys: key, values: value)
        }
        let mask = state.mask(sliding: sliding)
        let attended: Tensor
        // Soft-capping has no fused kernel: Gemma 2 always takes the explicit path (as
        // transformers, whose Gemma 2 refuses SDPA).
        let explicit = self.sourceHooked(explicitAttentionOperations)
        if softcap != nil || explicit {
            let scores = try scaledAttentionScores(query, key, scaling: scaling)
            let capped = try softcapped(scores, cap: softcap)
            let pattern = try attentionPattern(capped.to(.float32), mask: mask).to(query.dtype)
            let weighted = try weightedValues(pattern, value)
            attended = weighted
        } else {
            attended = try F.scaledDotProductAttention(query, key, value, mask: mask, scale: scaling, enableGQA: heads != kvHeads)
        }
        return try self.o_proj(mergeHeads(attended))
    }
}

/// `[batch, sequence, heads × headDim]` → `[batch, heads, sequence, headDim]`, then normed per
/// head where there is a norm (Python's Gemma 3 norms after the transpose, so the norm's hooks see
/// `[batch, heads, sequence, headDim]`).
func headsNormed(_ x: Tensor, heads: Int, norm: Module?, _ context: ForwardContext) throws -> Tensor {
    let split = try splitHeads(x, heads: heads)
    guard let norm else { return split }
    return try norm(split, context)
}

/// Scores `query · keyᵀ · scaling` `[batch, heads, query, key]` (Gemma's scaling is
/// `query_pre_attn_scalar ** -0.5`), key heads repeated for grouped-query attention.
func scaledAttentionScores(_ query: Tensor, _ key: Tensor, scaling: Double) throws -> Tensor {
    try query.matmul(repeatHeads(key, to: query.size(1)).transpose(-1, -2)) * scaling
}

/// Python: `attn_weights = tanh(attn_weights / softcap) * softcap`; unchanged without a cap.
func softcapped(_ scores: Tensor, cap: Double?) throws -> Tensor {
    guard let cap else { return scores }
    return try (scores / cap).tanh() * cap
}

/// Python: `GemmaDecoderLayer` / `Gemma2DecoderLayer`.
public final class GemmaDecoderLayer: Module {
    public let self_attn: GemmaAttention
    public let mlp: GemmaMLP
    public let input_layernorm: GemmaRMSNorm
    public let post_attention_layernorm: GemmaRMSNorm
    /// Gemma 2 only.
    public let pre_feedforward_layernorm: GemmaRMSNorm?
    /// Gemma 2 only.
    public let post_feedforward_layernorm: GemmaRMSNorm?
    /// The Gemma generation (every layer of a model is built with the same).
    public let variant: GemmaVariant

    init(_ config: GemmaConfig, variant: GemmaVariant, layerIndex: Int, device: Device) throws {
        self_attn = try GemmaAttention(config, variant: variant, layerIndex: layerIndex, device: device)
        mlp = try GemmaMLP(config, variant: variant, device: device)
        func norm() throws -> GemmaRMSNorm {
            try GemmaRMSNorm(config.hiddenSize, eps: config.rmsNormEps, variant: variant, device: device)
        }
        input_layernorm = try norm()
        post_attention_layernorm = try norm()
        pre_feedforward_layernorm = variant.sandwichNorms ? try norm() : nil
        post_feedforward_layernorm = variant.sandwichNorms ? try norm() : nil
        self.variant = variant
    }

    public override var typeName: String { variant.classPrefix + "DecoderLayer" }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        guard let pre_feedforward_layernorm, let post_feedforward_layernorm else {
            let hidden = try self.self_attn(self.input_layernorm(input), context) + input
            return try self.mlp(self.post_attention_layernorm(hidden), context) + hidden
        }
        let attended = try self.post_attention_layernorm(self.self_attn(self.input_layernorm(input), context)) + input
        return try post_feedforward_layernorm(self.mlp(pre_feedforward_layernorm(attended), context)) + attended
    }
}

/// Which of Gemma 3's rotary frequencies a call of ``GemmaRotaryEmbedding`` computes (Python:
/// its `layer_type` argument).
struct RotaryLayerType: DerivedForwardState {
    var layerType: GemmaConfig.LayerType
    var names: [String] { ["layer_type"] }
}

/// Python: `GemmaRotaryEmbedding` / `Gemma2RotaryEmbedding` / `Gemma3RotaryEmbedding`. Called with
/// position ids, it returns cosines and sines `[2, batch, sequence, headDim]`. Gemma 3 keeps one
/// set of frequencies per layer type: its global (full-attention) layers rotate with `rope_theta`
/// and the config's scaling, its local (sliding) layers with `rope_local_base_freq`, unscaled; the
/// model calls it once per layer type present, in Python's order (sorted).
public final class GemmaRotaryEmbedding: Module {
    /// The full-attention layers' frequencies (every layer's, before Gemma 3).
    let fullInvFreq: Buffer
    /// Gemma 3: the sliding layers' frequencies.
    let slidingInvFreq: Buffer?
    let typePrefix: String

    init(_ config: GemmaConfig, variant: GemmaVariant, device: Device) throws {
        typePrefix = variant.classPrefix
        func buffer(theta: Double, scaling: LlamaConfig.RopeScaling?) throws -> Buffer {
            let invFreq = try RotaryEmbedding.inverseFrequencies(dimension: config.headDim, theta: theta, scaling: scaling)
            // Derived from the config: kept real on the meta device (as RotaryEmbedding's).
            return Buffer(device == .meta ? invFreq : try invFreq.to(device: device), persistent: false)
        }
        fullInvFreq = try buffer(theta: config.ropeTheta, scaling: config.ropeScaling)
        slidingInvFreq = try config.ropeLocalBaseFreq.map { try buffer(theta: $0, scaling: nil) }
    }

    public override var typeName: String { typePrefix + "RotaryEmbedding" }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let sliding = context.derived(as: RotaryLayerType.self)?.layerType == .slidingAttention
        return try RotaryEmbedding.cosineAndSine(input, (sliding ? slidingInvFreq ?? fullInvFreq : fullInvFreq).value)
    }

    /// The tables for `positionIds` of layers of `layerType`, in `dtype`.
    func tables(_ positionIds: Tensor, layerType: GemmaConfig.LayerType, dtype: DType,
                context: ForwardContext) throws -> RotaryTables {
        var inner = context
        inner.derived = RotaryLayerType(layerType: layerType)
        let stacked = try self(positionIds, inner).to(dtype)
        return RotaryTables(cos: try stacked.select(dim: 0, index: 0), sin: try stacked.select(dim: 0, index: 1))
    }

    /// Whether sliding layers rotate differently from full ones (Gemma 3).
    var perLayerType: Bool { slidingInvFreq != nil }
}

extension GemmaRotaryEmbedding: DecoderRotaryEmbedding {
    /// One set of tables, or (Gemma 3) one per layer type present, computed in Python's order
    /// (sorted), each layer reading its type's.
    public func layerTables(_ positionIds: Tensor, layerTypes: [LlamaConfig.LayerType], dtype: DType,
                            _ context: ForwardContext) throws -> LayerRotaryTables {
        guard perLayerType else {
            return .shared(try tables(positionIds, layerType: .fullAttention, dtype: dtype, context: context))
        }
        var byType: [GemmaConfig.LayerType: RotaryTables] = [:]
        for type in Set(layerTypes).sorted(by: { $0.rawValue < $1.rawValue }) {
            byType[type] = try tables(positionIds, layerType: type, dtype: dtype, context: context)
        }
        return .perLayer(layerTypes.compactMap { byType[$0] })
    }
}

/// Python: `GemmaModel` / `Gemma2Model` / `Gemma3TextModel`: token ids in, final hidden states out.
public typealias GemmaModel = DecoderModel<GemmaDecoderLayer, GemmaRMSNorm, GemmaRotaryEmbedding>

extension DecoderModel where Layer == GemmaDecoderLayer, Norm == GemmaRMSNorm, Rotary == GemmaRotaryEmbedding {
    /// The Gemma generation (its layers', all built with the same; a model has at least one
    /// layer, `num_hidden_layers` is checked positive before it is built).
    public var variant: GemmaVariant { layers[0].variant }
}

/// Python: `GemmaForCausalLM` / `Gemma2ForCausalLM` / `Gemma3ForCausalLM`: `lm_head`, then
/// (Gemma 2, 3) the final-logit soft-cap `cap · tanh(logits / cap)` outside any module (so
/// `lm_head.output` is uncapped, as in Python).
public typealias GemmaForCausalLM = DecoderForCausalLM<GemmaModel, GemmaConfig>

extension DecoderForCausalLM where Base == GemmaModel, Config == GemmaConfig {
    public convenience init(_ config: GemmaConfig, variant: GemmaVariant = .gemma2, device: Device = .cpu) throws {
        try self.init(config, className: variant.classPrefix + "ForCausalLM", finalLogitSoftcap: config.finalLogitSoftcapping,
                      device: device) {
            try GemmaModel(config, className: variant.modelClassName ?? variant.classPrefix + "Model", device: device,
                           embedding: { try GemmaTextScaledWordEmbedding(config, variant: variant, device: device) },
                           layer: { try GemmaDecoderLayer(config, variant: variant, layerIndex: $0, device: device) },
                           norm: { try GemmaRMSNorm(config.hiddenSize, eps: config.rmsNormEps, variant: variant, device: device) },
                           rotary: { try GemmaRotaryEmbedding(config, variant: variant, device: device) })
        }
    }

    public var model: GemmaModel { baseModel }
    /// The Gemma generation.
    public var variant: GemmaVariant { baseModel.variant }
}
