// Port of transformers' models/phi3/modeling_phi3.py (Phi3ForCausalLM: Phi-3, Phi-3.5, Phi-4-mini),
// with the same module names, so checkpoint keys and nnsight paths (`model.layers.0.self_attn.qkv_proj`)
// carry over. The whole family in one file plus its line in ModelRegistry.families.
import Foundation
import NNsightNN
import NNsightTorch

/// Phi-3's `config.json`: Llama's fields (``LlamaConfig``, which decodes them) plus the share of
/// each head that is rotated and the residual dropout. Port of transformers' `Phi3Config`.
/// `rope_type` `longrope` (the 128k-context checkpoints) is refused by name.
public struct Phi3Config: LlamaExtendingConfig, Equatable {
    /// The fields Phi-3 shares with Llama (sizes, heads, norm epsilon, rotary theta, sliding window).
    public var llama: LlamaConfig
    /// The share of each head's features that is rotated (Python: `rope_parameters["partial_rotary_factor"]`).
    public var partialRotaryFactor: Double
    /// Dropout after attention and after the MLP (Python: `resid_pdrop`; inactive in eval).
    public var residualDropout: Double

    enum CodingKeys: String, CodingKey {
        case ropeParameters = "rope_parameters", partialRotaryFactor = "partial_rotary_factor", residPdrop = "resid_pdrop"
    }

    struct RopeParameters: Codable, Equatable {
        var partialRotaryFactor: Double?
        enum CodingKeys: String, CodingKey { case partialRotaryFactor = "partial_rotary_factor" }
    }

    public init(_ llama: LlamaConfig, partialRotaryFactor: Double = 1, residualDropout: Double = 0) {
        self.llama = llama
        self.partialRotaryFactor = partialRotaryFactor
        self.residualDropout = residualDropout
    }

    public init(from decoder: Decoder) throws {
        llama = try LlamaConfig(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        partialRotaryFactor = try c.decodeIfPresent(RopeParameters.self, forKey: .ropeParameters)?.partialRotaryFactor
            ?? c.decodeIfPresent(Double.self, forKey: .partialRotaryFactor) ?? 1
        residualDropout = try c.decodeIfPresent(Double.self, forKey: .residPdrop) ?? 0
    }

    public func encode(to encoder: Encoder) throws {
        try llama.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(partialRotaryFactor, forKey: .partialRotaryFactor)
        try c.encode(residualDropout, forKey: .residPdrop)
    }

    /// How many of each head's features are rotated.
    public var rotaryDimensions: Int { Int(Double(llama.headDim) * partialRotaryFactor) }

    /// Llama's checks, then the rotary share (see ``ModelConfig/validate()``).
    public func validate() throws {
        try llama.validate()
        guard partialRotaryFactor > 0, partialRotaryFactor <= 1, rotaryDimensions >= 2, rotaryDimensions % 2 == 0 else {
            throw ModelError.invalidConfig(
                field: "rope_parameters.partial_rotary_factor",
                reason: "\(partialRotaryFactor) of head size \(llama.headDim) must rotate an even number of features, at least 2")
        }
        try ConfigCheck.probability(residualDropout, "resid_pdrop")
    }

}

/// A Phi-3 RMS norm (`Phi3RMSNorm`: Llama's arithmetic, Phi-3's class name).
private func phi3RMSNorm(_ config: Phi3Config, device: Device) throws -> LlamaRMSNorm {
    let norm = try LlamaRMSNorm(config.llama.hiddenSize, eps: config.llama.rmsNormEps, device: device)
    norm.typePrefix = "Phi3"
    return norm
}

/// Python: `Phi3Attention`: one fused `qkv_proj` whose output is `[q | k | v]` (all query heads,
/// then the key heads, then the value heads), rotary on the first `rotary_ndims` features.
public final class Phi3Attention: Module {
    // Declared in transformers' order (`o_proj` first), which the printed tree follows.
    public let o_proj: Linear
    public let qkv_proj: Linear
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    let layerIndex: Int
    let sliding: Bool

    init(_ config: Phi3Config, layerIndex: Int, device: Device) throws {
        let c = config.llama
        heads = c.numAttentionHeads
        kvHeads = c.numKeyValueHeads
        headDim = c.headDim
        o_proj = try Linear(heads * headDim, c.hiddenSize, bias: false, device: device)
        qkv_proj = try Linear(c.hiddenSize, (heads + 2 * kvHeads) * headDim, bias: false, device: device)
        self.layerIndex = layerIndex
        sliding = c.layerType(layerIndex) == .slidingAttention
    }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let state = try context.decoderState(for: typeName)
        guard let tables = state.rotaryTables else {
            throw ModelError.invalidInput("\(typeName) needs the rotary tables its model derives (call it through the model)")
        }
        let qkv = try self.qkv_proj(input)
        let queryWidth = heads * headDim, kvWidth = kvHeads * headDim
        let query = try applyRotary(splitHeads(qkv.narrow(dim: -1, start: 0, length: queryWidth), heads: heads), tables)
        var key = try applyRotary(splitHeads(qkv.narrow(dim: -1, start: queryWidth, length: kvWidth), heads: kvHeads), tables)
        var value = try splitHeads(qkv.narrow(dim: -1, start: queryWidth + kvWidth, length: kvWidth), heads: kvHeads)
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

/// Python: `Phi3MLP`: one fused `gate_up_proj` whose output is `[gate | up]`;
/// `down_proj(up * silu(gate))`.
public final class Phi3MLP: Module {
    public let gate_up_proj: Linear
    public let down_proj: Linear
    public let activation_fn: SiLUActivation

    init(_ config: Phi3Config, device: Device) throws {
        let c = config.llama
        gate_up_proj = try Linear(c.hiddenSize, 2 * c.intermediateSize, bias: false, device: device)
        down_proj = try Linear(c.intermediateSize, c.hiddenSize, bias: false, device: device)
        activation_fn = SiLUActivation()
    }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let halves = try self.gate_up_proj(input).chunk(2, dim: -1)
        return try self.down_proj(halves[1] * self.activation_fn(halves[0]))
    }
}

/// Python: `Phi3DecoderLayer`: Llama's pre-norm layer with a dropout on each residual branch.
public final class Phi3DecoderLayer: Module {
    public let self_attn: Phi3Attention
    public let mlp: Phi3MLP
    public let input_layernorm: LlamaRMSNorm
    public let post_attention_layernorm: LlamaRMSNorm
    public let resid_attn_dropout: Dropout
    public let resid_mlp_dropout: Dropout

    init(_ config: Phi3Config, layerIndex: Int, device: Device) throws {
        self_attn = try Phi3Attention(config, layerIndex: layerIndex, device: device)
        mlp = try Phi3MLP(config, device: device)
        input_layernorm = try phi3RMSNorm(config, device: device)
        post_attention_layernorm = try phi3RMSNorm(config, device: device)
        resid_attn_dropout = Dropout(config.residualDropout)
        resid_mlp_dropout = Dropout(config.residualDropout)
    }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let hidden = try self.resid_attn_dropout(self.self_attn(self.input_layernorm(input), context), context) + input
        return try self.resid_mlp_dropout(self.mlp(self.post_attention_layernorm(hidden), context), context) + hidden
    }
}

/// Python: `Phi3Model`: token ids in, final hidden states out. With `sliding_window` set, every
/// layer attends over the window (Python: `create_sliding_window_causal_mask`).
public typealias Phi3Model = DecoderModel<Phi3DecoderLayer, LlamaRMSNorm, RotaryEmbedding>

/// Python: `Phi3ForCausalLM`.
public typealias Phi3ForCausalLM = DecoderForCausalLM<Phi3Model, Phi3Config>

extension DecoderForCausalLM where Base == Phi3Model, Config == Phi3Config {
    public convenience init(_ config: Phi3Config, device: Device = .cpu) throws {
        try self.init(config, className: "Phi3ForCausalLM", device: device) {
            try Phi3Model(config.llama, className: "Phi3Model", device: device,
                          layer: { try Phi3DecoderLayer(config, layerIndex: $0, device: device) },
                          norm: { try phi3RMSNorm(config, device: device) },
                          rotary: {
                              try RotaryEmbedding(dimension: config.rotaryDimensions, theta: config.llama.ropeTheta,
                                                  classPrefix: "Phi3", device: device)
                          })
        }
    }

    public var model: Phi3Model { baseModel }
}

/// Phi-3 in the registry (`model_type` `phi3`): safetensors checkpoints.
public enum Phi3Family: ModelFamily {
    public static let modelType = "phi3"

    /// Llama's decoding, then Phi-3's reading of `sliding_window`: when set, every layer slides.
    public static func decodeConfig(from data: Data) throws -> Phi3Config {
        var config = try JSONDecoder().decode(Phi3Config.self, from: data)
        config.llama.modelType = modelType
        config.llama.slideEveryLayerWhenWindowed()
        try config.validate()
        return config
    }

    public static func makeModel(_ config: Phi3Config, device: Device) throws -> any CausalLanguageModel {
        try Phi3ForCausalLM(config, device: device)
    }

    public static let standardNames = StandardNames(
        layers: "model.layers", selfAttention: "self_attn", mlp: "mlp", finalNorm: "model.norm",
        embedTokens: "model.embed_tokens")
}
