// Port of transformers' models/olmo2/modeling_olmo2.py (Olmo2ForCausalLM), with the same module
// names, so checkpoint keys and nnsight paths carry over: Llama's attention with an RMSNorm over
// the whole query and key projections (`q_norm`, `k_norm`), and the block's norms after attention
// and MLP instead of before (no input norm). The whole family in one file plus its registry line;
// it reads Llama's `config.json` fields and reuses Llama's MLP and rotary embedding.
import Foundation
import NNsightGGUF
import NNsightNN
import NNsightTorch

/// Python: `Olmo2RMSNorm`: normalises in float32 and scales in float32 before casting back
/// (Llama's scales after the cast).
public final class Olmo2RMSNorm: RMSNorm {
    convenience init(_ dimension: Int, _ config: LlamaConfig, device: Device) throws {
        try self.init(dimension, eps: config.rmsNormEps, device: device)
    }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let dtype = input.dtype
        let normalized = try F.rmsNorm(input.to(.float32), normalizedShape: weight.value.shape, eps: eps ?? 1e-6)
        return try (weight.value.to(.float32) * normalized).to(dtype)
    }

    public override var extraDescription: String {
        "(\(weight.value.shape.map(String.init).joined(separator: ", ")),), eps=\(pythonFloat(eps ?? 1e-6))"
    }
}

/// Python: `Olmo2Attention`: `q_norm` and `k_norm` over the full projections, before the heads split.
public final class Olmo2Attention: Module {
    public let q_proj: Linear
    public let k_proj: Linear
    public let v_proj: Linear
    public let o_proj: Linear
    public let q_norm: Olmo2RMSNorm
    public let k_norm: Olmo2RMSNorm
    let heads: Int
    let kvHeads: Int
    let layerIndex: Int

    init(_ config: LlamaConfig, layerIndex: Int, device: Device) throws {
        let d = config.headDim, q = config.numAttentionHeads * d, kv = config.numKeyValueHeads * d
        q_proj = try Linear(config.hiddenSize, q, bias: config.attentionBias, device: device)
        k_proj = try Linear(config.hiddenSize, kv, bias: config.attentionBias, device: device)
        v_proj = try Linear(config.hiddenSize, kv, bias: config.attentionBias, device: device)
        o_proj = try Linear(q, config.hiddenSize, bias: config.attentionBias, device: device)
        q_norm = try Olmo2RMSNorm(q, config, device: device)
        k_norm = try Olmo2RMSNorm(kv, config, device: device)
        heads = config.numAttentionHeads
        kvHeads = config.numKeyValueHeads
        self.layerIndex = layerIndex
    }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let state = try context.decoderState(for: typeName)
        guard let tables = state.rotaryTables else {
            throw ModelError.invalidInput("\(typeName) needs the rotary tables its model derives (call it through the model)")
        }
        let query = try applyRotary(splitHeads(self.q_norm(self.q_proj(input)), heads: heads), tables)
        var key = try applyRotary(splitHeads(self.k_norm(self.k_proj(input)), heads: kvHeads), tables)
        var value = try splitHeads(self.v_proj(input), heads: kvHeads)
        if let cache = context.cache {
            (key, value) = try cache.update(layer: layerIndex, keys: key, values: value)
        }
        let mask = state.attentionMask
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

/// Python: `Olmo2DecoderLayer`: `h = x + norm(attention(x))`, then `h + norm(mlp(h))`.
public final class Olmo2DecoderLayer: Module {
    public let self_attn: Olmo2Attention
    public let mlp: LlamaMLP
    public let post_attention_layernorm: Olmo2RMSNorm
    public let post_feedforward_layernorm: Olmo2RMSNorm

    init(_ config: LlamaConfig, layerIndex: Int, device: Device) throws {
        self_attn = try Olmo2Attention(config, layerIndex: layerIndex, device: device)
        mlp = try LlamaMLP(config, variant: Olmo2Family.variant, device: device)
        post_attention_layernorm = try Olmo2RMSNorm(config.hiddenSize, config, device: device)
        post_feedforward_layernorm = try Olmo2RMSNorm(config.hiddenSize, config, device: device)
    }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let hidden = try self.post_attention_layernorm(self.self_attn(input, context)) + input
        return try self.post_feedforward_layernorm(self.mlp(hidden, context)) + hidden
    }
}

/// Python: `Olmo2Model`: token ids in, final hidden states out.
public typealias Olmo2Model = DecoderModel<Olmo2DecoderLayer, Olmo2RMSNorm, RotaryEmbedding>

/// Python: `Olmo2ForCausalLM`.
public typealias Olmo2ForCausalLM = DecoderForCausalLM<Olmo2Model, LlamaConfig>

extension DecoderForCausalLM where Base == Olmo2Model, Config == LlamaConfig {
    public convenience init(_ config: LlamaConfig, device: Device = .cpu) throws {
        // OLMo 2 has no sliding window (its attention reads the full mask), whatever the config says.
        var everyKey = config
        everyKey.slidingWindow = nil
        try self.init(config, className: "Olmo2ForCausalLM", device: device) {
            try Olmo2Model(everyKey, className: "Olmo2Model", device: device,
                           layer: { try Olmo2DecoderLayer(config, layerIndex: $0, device: device) },
                           norm: { try Olmo2RMSNorm(config.hiddenSize, config, device: device) },
                           rotary: { try RotaryEmbedding(config: config, classPrefix: "Olmo2", device: device) })
        }
    }

    public var model: Olmo2Model { baseModel }
}

/// OLMo 2 (`model_type` `olmo2`) in the registry: safetensors, and llama.cpp's `olmo2` GGUF
/// (`attn_q_norm`, `attn_k_norm`, `post_attention_norm`, `post_ffw_norm`; no row permutation,
/// norms stored as they are).
public enum Olmo2Family: LlamaFamilyMember {
    public static let modelType = "olmo2"
    public static let variant = LlamaVariant(classPrefix: "Olmo2", outputProjectionBias: true, ggufPermutesRotaryRows: false)
    public static let ggufArchitectures = ["olmo2"]

    public static func finish(_ config: inout LlamaConfig) {
        config.slidingWindow = nil
        config.layerTypes = Array(repeating: .fullAttention, count: config.numHiddenLayers)
        config.queryKeyNormParameters = (Double(config.numAttentionHeads) + Double(config.numKeyValueHeads)) * Double(config.headDim)
    }

    public static func makeModel(_ config: LlamaConfig, device: Device) throws -> any CausalLanguageModel {
        try Olmo2ForCausalLM(config, device: device)
    }

    public static func modelKey(forGGUFTensor name: String, config: LlamaConfig) -> String? {
        let perLayer = [
            "attn_q_norm.weight": "self_attn.q_norm.weight", "attn_k_norm.weight": "self_attn.k_norm.weight",
            "post_attention_norm.weight": "post_attention_layernorm.weight",
            "post_ffw_norm.weight": "post_feedforward_layernorm.weight",
        ]
        let parts = name.split(separator: ".", maxSplits: 2)
        if parts.count == 3, parts[0] == "blk", let layer = Int(parts[1]), let suffix = perLayer[String(parts[2])] {
            return "model.layers.\(layer).\(suffix)"
        }
        // llama.cpp's names for the Llama parts; the Llama pre-norms do not exist here.
        guard !name.hasSuffix("attn_norm.weight"), !name.hasSuffix("ffn_norm.weight") else { return nil }
        return llamaModelKey(forGGUFTensor: name)
    }
}
