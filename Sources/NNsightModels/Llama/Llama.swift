// Port of transformers' models/llama/modeling_llama.py (LlamaForCausalLM), which also covers
// Mistral and Qwen2 (q/k/v biases), with the same module names as transformers.
import NNsightNN
import NNsightTorch

/// Python: `LlamaRMSNorm`: normalises in float32, scales in the input's dtype.
public final class LlamaRMSNorm: RMSNorm {
    /// The model family's class-name prefix (`Qwen2RMSNorm`).
    var typePrefix = "Llama"

    /// A norm of `config.hiddenSize`, named after the model family.
    convenience init(_ config: LlamaConfig, variant: LlamaVariant, dimension: Int? = nil, device: Device) throws {
        try self.init(dimension ?? config.hiddenSize, eps: config.rmsNormEps, device: device)
        typePrefix = variant.classPrefix
    }

    public override var typeName: String { typePrefix + "RMSNorm" }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let dtype = input.dtype
        if dtype == .float32 && weight.value.dtype == .float32 {
            // The same float32 arithmetic in one kernel call.
            return try F.rmsNorm(input, normalizedShape: weight.value.shape, weight: weight.value, eps: eps ?? 1e-6)
        }
        let hidden = try input.to(.float32)
        let variance = try hidden.pow(2).mean(dim: -1, keepDim: true)
        let normalized = try hidden * (variance + (eps ?? 1e-6)).rsqrt()
        return try weight.value * normalized.to(dtype)
    }

    public override var extraDescription: String {
        "(\(weight.value.shape.map(String.init).joined(separator: ", ")),), eps=\(pythonFloat(eps ?? 1e-6))"
    }
}

/// Python: `LlamaAttention` (grouped-query, rotary); Qwen3's adds `q_norm` and `k_norm`.
public final class LlamaAttention: Module {
    public let q_proj: Linear
    public let k_proj: Linear
    public let v_proj: Linear
    public let o_proj: Linear
    /// Qwen3: RMSNorm of each query head (over `head_dim`) before the rotary embedding.
    public let q_norm: LlamaRMSNorm?
    /// Qwen3: RMSNorm of each key head.
    public let k_norm: LlamaRMSNorm?
    let heads: Int
    let kvHeads: Int
    let layerIndex: Int
    /// Whether this layer attends over the sliding window (`layer_types`).
    let sliding: Bool
    let typePrefix: String

    init(_ config: LlamaConfig, variant: LlamaVariant, layerIndex: Int, device: Device) throws {
        typePrefix = variant.classPrefix
        let d = config.headDim
        q_proj = try Linear(config.hiddenSize, config.numAttentionHeads * d, bias: config.attentionBias, device: device)
        k_proj = try Linear(config.hiddenSize, config.numKeyValueHeads * d, bias: config.attentionBias, device: device)
        v_proj = try Linear(config.hiddenSize, config.numKeyValueHeads * d, bias: config.attentionBias, device: device)
        o_proj = try Linear(config.numAttentionHeads * d, config.hiddenSize, bias: variant.outputProjectionBias && config.attentionBias, device: device)
        q_norm = variant.queryKeyNorm ? try LlamaRMSNorm(config, variant: variant, dimension: d, device: device) : nil
        k_norm = variant.queryKeyNorm ? try LlamaRMSNorm(config, variant: variant, dimension: d, device: device) : nil
        heads = config.numAttentionHeads
        kvHeads = config.numKeyValueHeads
        self.layerIndex = layerIndex
        sliding = config.layerType(layerIndex) == .slidingAttention
    }

    public override var typeName: String { typePrefix + "Attention" }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let state = try context.decoderState(for: typeName)
        guard let tables = state.rotaryTables else {
            throw ModelError.invalidInput("\(typeName) needs the rotary tables its model derives (call it through the model)")
        }
        let query = try applyRotary(normedHeads(self.q_proj(input), heads: heads, norm: q_norm, context), tables)
        var key = try applyRotary(normedHeads(self.k_proj(input), heads: kvHeads, norm: k_norm, context), tables)
        var value = try splitHeads(self.v_proj(input), heads: kvHeads)
        if let cache = context.cache {
            (key, value) = try cache.update(layer: layerIndex, keys: key, values: value)
        }
        let mask = state.mask(sliding: sliding)
        let attended: Tensor
        if self.sourceHooked(explicitAttentionOperations) {
            let scores = try attentionScores(query, key)
            let pattern = try attentionPattern(scores, mask: mask)
            let weighted = try weightedValues(pattern, value)
            attended = weighted
        } else {
            attended = try fusedAttention(query, key, value, mask: mask)
        }
        return try self.o_proj(mergeHeads(attended))
    }
}

/// `[batch, sequence, heads × headDim]` → `[batch, heads, sequence, headDim]`, normed per head
/// on the way (as Python: `norm(x.view(batch, sequence, heads, headDim)).transpose(1, 2)`, so the
/// norm's hooks see Python's shapes).
func normedHeads(_ x: Tensor, heads: Int, norm: Module?, _ context: ForwardContext) throws -> Tensor {
    guard let norm else { return try splitHeads(x, heads: heads) }
    let shape = x.shape
    return try norm(x.view([shape[0], shape[1], heads, shape[2] / heads]), context).transpose(1, 2)
}

/// Python: `LlamaMLP` (also the gated MLP of the families built on it, and `GemmaMLP`, GeGLU):
/// `down_proj(act_fn(gate_proj(x)) * up_proj(x))`.
public final class LlamaMLP: Module {
    public let gate_proj: Linear
    public let up_proj: Linear
    public let down_proj: Linear
    /// SiLU (Llama); GELU (Gemma).
    public let act_fn: Module
    let typePrefix: String

    /// Projections `hiddenSize` → `intermediateSize` → `hiddenSize` (with biases when `bias`),
    /// `activation` between, printed as `<classPrefix>MLP`.
    init(hiddenSize: Int, intermediateSize: Int, bias: Bool, activation: Module, classPrefix: String, device: Device) throws {
        typePrefix = classPrefix
        gate_proj = try Linear(hiddenSize, intermediateSize, bias: bias, device: device)
        up_proj = try Linear(hiddenSize, intermediateSize, bias: bias, device: device)
        down_proj = try Linear(intermediateSize, hiddenSize, bias: bias, device: device)
        act_fn = activation
    }

    /// Llama's: SiLU, biases under `mlp_bias`.
    convenience init(_ config: LlamaConfig, variant: LlamaVariant, device: Device) throws {
        try self.init(hiddenSize: config.hiddenSize, intermediateSize: config.intermediateSize, bias: config.mlpBias,
                      activation: SiLUActivation(), classPrefix: variant.classPrefix, device: device)
    }

    public override var typeName: String { typePrefix + "MLP" }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try self.down_proj(self.act_fn(self.gate_proj(input)) * self.up_proj(input))
    }
}

/// Python: `LlamaDecoderLayer`.
public final class LlamaDecoderLayer: Module {
    public let self_attn: LlamaAttention
    public let mlp: LlamaMLP
    public let input_layernorm: LlamaRMSNorm
    public let post_attention_layernorm: LlamaRMSNorm
    /// How this family member differs from Llama (every layer of a model is built with the same).
    public let variant: LlamaVariant

    init(_ config: LlamaConfig, variant: LlamaVariant, layerIndex: Int, device: Device) throws {
        self_attn = try LlamaAttention(config, variant: variant, layerIndex: layerIndex, device: device)
        mlp = try LlamaMLP(config, variant: variant, device: device)
        input_layernorm = try LlamaRMSNorm(config, variant: variant, device: device)
        post_attention_layernorm = try LlamaRMSNorm(config, variant: variant, device: device)
        self.variant = variant
    }

    public override var typeName: String { variant.classPrefix + "DecoderLayer" }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let hidden = try self.self_attn(self.input_layernorm(input), context) + input
        return try self.mlp(self.post_attention_layernorm(hidden), context) + hidden
    }
}

/// Python: `LlamaModel` (also `MistralModel`, `Qwen2Model`, `Qwen3Model`): token ids in, final
/// hidden states out.
public typealias LlamaModel = DecoderModel<LlamaDecoderLayer, LlamaRMSNorm, RotaryEmbedding>

extension DecoderModel where Layer == LlamaDecoderLayer, Norm == LlamaRMSNorm, Rotary == RotaryEmbedding {
    /// How this family member differs from Llama (its layers', all built with the same; a model
    /// has at least one layer, `num_hidden_layers` is checked positive before it is built).
    public var variant: LlamaVariant { layers[0].variant }
}

extension DecoderModel where Norm == LlamaRMSNorm, Rotary == RotaryEmbedding {
    /// A decoder stack with Llama's final norm and rotary embedding for `variant`, printed as
    /// `<classPrefix>Model` (Llama and its members, Mixtral, Qwen3-MoE); `layer` builds each layer.
    convenience init(_ config: LlamaConfig, variant: LlamaVariant, device: Device, layer: (Int) throws -> Layer) throws {
        try self.init(config, className: variant.classPrefix + "Model", device: device, layer: layer,
                      norm: { try LlamaRMSNorm(config, variant: variant, device: device) },
                      rotary: { try RotaryEmbedding(config: config, classPrefix: variant.classPrefix, device: device) })
    }
}

/// Python: `LlamaForCausalLM` (also `MistralForCausalLM`, `Qwen2ForCausalLM`, `Qwen3ForCausalLM`).
public typealias LlamaForCausalLM = DecoderForCausalLM<LlamaModel, LlamaConfig>

extension DecoderForCausalLM where Base == LlamaModel, Config == LlamaConfig {
    /// Builds the model; `variant` is the family member (the registry's `MistralFamily` and
    /// `Qwen2Family` pass theirs).
    public convenience init(_ config: LlamaConfig, variant: LlamaVariant = .llama, device: Device = .cpu) throws {
        try self.init(config, className: variant.classPrefix + "ForCausalLM", device: device) {
            try LlamaModel(config, variant: variant, device: device) {
                try LlamaDecoderLayer(config, variant: variant, layerIndex: $0, device: device)
            }
        }
    }

    public var model: LlamaModel { baseModel }
    /// How this family member differs from Llama (class names, `o_proj` bias).
    public var variant: LlamaVariant { baseModel.variant }
}
