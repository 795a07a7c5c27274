// Port of transformers' models/mixtral/modeling_mixtral.py (MixtralForCausalLM), with transformers
// 5's module names and tree: each layer's `mlp` is a `MixtralSparseMoeBlock` (``SparseMoeBlock``,
// MoE/SparseMoe.swift, the code Qwen3-MoE shares) holding the router `gate` and the `experts`
// (every expert's weights stacked in one tensor), so nnsight paths (`model.layers.0.mlp.gate`)
// carry over. Checkpoints in the hub's per-expert layout
// (`block_sparse_moe.experts.3.w1.weight`) are stacked at load. The whole family in one file plus
// its line in ModelRegistry.families.
import Foundation
import NNsightNN
import NNsightTorch

/// Mixtral's `config.json`: Llama's fields (``LlamaConfig``, which decodes them, sliding window
/// included) plus the mixture of experts. Port of transformers' `MixtralConfig`.
public struct MixtralConfig: LlamaExtendingConfig, Equatable {
    /// The fields Mixtral shares with Mistral (sizes, heads, rotary, sliding window).
    public var llama: LlamaConfig
    /// Experts per layer (Python: `num_local_experts`).
    public var numLocalExperts: Int
    /// Experts each token is routed to (Python: `num_experts_per_tok`).
    public var numExpertsPerToken: Int
    /// Multiplicative noise on the router's input in training (inactive in eval).
    public var routerJitterNoise: Double

    enum CodingKeys: String, CodingKey {
        case numLocalExperts = "num_local_experts", numExpertsPerTok = "num_experts_per_tok"
        case routerJitterNoise = "router_jitter_noise"
    }

    public init(_ llama: LlamaConfig, numLocalExperts: Int = 8, numExpertsPerToken: Int = 2, routerJitterNoise: Double = 0) {
        self.llama = llama
        self.numLocalExperts = numLocalExperts
        self.numExpertsPerToken = numExpertsPerToken
        self.routerJitterNoise = routerJitterNoise
    }

    public init(from decoder: Decoder) throws {
        llama = try LlamaConfig(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        numLocalExperts = try c.decodeIfPresent(Int.self, forKey: .numLocalExperts) ?? 8
        numExpertsPerToken = try c.decodeIfPresent(Int.self, forKey: .numExpertsPerTok) ?? 2
        routerJitterNoise = try c.decodeIfPresent(Double.self, forKey: .routerJitterNoise) ?? 0
    }

    public func encode(to encoder: Encoder) throws {
        try llama.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(numLocalExperts, forKey: .numLocalExperts)
        try c.encode(numExpertsPerToken, forKey: .numExpertsPerTok)
        try c.encode(routerJitterNoise, forKey: .routerJitterNoise)
    }

    /// Llama's checks (on the dense sizes), then the experts' (see ``ModelConfig/validate()``).
    public func validate() throws {
        try llama.validate()
        try ConfigCheck.size(numLocalExperts, "num_local_experts", limit: 4096)
        guard (1...numLocalExperts).contains(numExpertsPerToken) else {
            throw ModelError.invalidConfig(
                field: "num_experts_per_tok", reason: "\(numExpertsPerToken) must be in 1...num_local_experts (\(numLocalExperts))")
        }
        try ConfigCheck.probability(routerJitterNoise, "router_jitter_noise")
        try ConfigCheck.parameterCount(parameterCountParts)
    }

    /// Llama's estimate with each layer's MLP counted once per expert.
    var parameterCountParts: [(field: String, parameters: Double)] {
        let h = Double(llama.hiddenSize), inner = Double(llama.intermediateSize), experts = Double(numLocalExperts)
        let extraPerLayer = (experts - 1) * 3 * h * inner + experts * h
        return llama.parameterCountParts + [("num_local_experts", Double(llama.numHiddenLayers) * extraPerLayer)]
    }

    public var parameterCountEstimate: Double { parameterCountParts.reduce(0) { $0 + $1.parameters } }
}

/// How Mixtral differs from Llama in the modules it shares with it (class names).
let mixtralVariant = LlamaVariant(classPrefix: "Mixtral", outputProjectionBias: true, ggufPermutesRotaryRows: false)

extension MixtralConfig {
    /// Mixtral's sparse MoE block: every layer's MLP, experts of `intermediate_size`, the top-k
    /// probabilities always renormalised (``SparseMoeBlock``, shared with Qwen3-MoE).
    var moeSettings: SparseMoeSettings {
        SparseMoeSettings(classPrefix: "Mixtral", hiddenSize: llama.hiddenSize, expertSize: llama.intermediateSize,
                          experts: numLocalExperts, topK: numExpertsPerToken, normalizeTopK: true, expertsFirst: false,
                          weightsInLogitsDType: false)
    }
}

/// Python: `MixtralDecoderLayer`: Llama's pre-norm layer with the sparse MoE block as its `mlp`.
public final class MixtralDecoderLayer: Module {
    public let self_attn: LlamaAttention
    public let mlp: SparseMoeBlock
    public let input_layernorm: LlamaRMSNorm
    public let post_attention_layernorm: LlamaRMSNorm

    init(_ config: MixtralConfig, layerIndex: Int, device: Device) throws {
        self_attn = try LlamaAttention(config.llama, variant: mixtralVariant, layerIndex: layerIndex, device: device)
        mlp = try SparseMoeBlock(config.moeSettings, device: device)
        input_layernorm = try LlamaRMSNorm(config.llama, variant: mixtralVariant, device: device)
        post_attention_layernorm = try LlamaRMSNorm(config.llama, variant: mixtralVariant, device: device)
    }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let hidden = try self.self_attn(self.input_layernorm(input), context) + input
        return try self.mlp(self.post_attention_layernorm(hidden), context) + hidden
    }
}

/// Python: `MixtralModel`: token ids in, final hidden states out (every layer over the sliding
/// window when the config sets one).
public typealias MixtralModel = DecoderModel<MixtralDecoderLayer, LlamaRMSNorm, RotaryEmbedding>

/// Python: `MixtralForCausalLM`.
public typealias MixtralForCausalLM = DecoderForCausalLM<MixtralModel, MixtralConfig>

extension DecoderForCausalLM where Base == MixtralModel, Config == MixtralConfig {
    public convenience init(_ config: MixtralConfig, device: Device = .cpu) throws {
        try self.init(config, className: "MixtralForCausalLM", device: device) {
            try MixtralModel(config.llama, variant: mixtralVariant, device: device) {
                try MixtralDecoderLayer(config, layerIndex: $0, device: device)
            }
        }
    }

    public var model: MixtralModel { baseModel }
}

/// Mixtral in the registry (`model_type` `mixtral`): safetensors checkpoints in the hub's
/// per-expert layout or transformers 5's stacked one.
public enum MixtralFamily: ModelFamily {
    public static let modelType = "mixtral"

    /// Llama's decoding, then Mistral's reading of `sliding_window`: when set, every layer slides.
    public static func decodeConfig(from data: Data) throws -> MixtralConfig {
        var config = try JSONDecoder().decode(MixtralConfig.self, from: data)
        config.llama.modelType = modelType
        config.llama.slideEveryLayerWhenWindowed()
        try config.validate()
        return config
    }

    public static func makeModel(_ config: MixtralConfig, device: Device) throws -> any CausalLanguageModel {
        try MixtralForCausalLM(config, device: device)
    }

    /// The hub's `block_sparse_moe.` is transformers 5's `mlp.` (its experts are stacked by
    /// ``combineCheckpointTensors(_:config:release:)``).
    public static func modelKey(forCheckpointKey key: String, config: MixtralConfig) -> String? {
        if key.hasSuffix("rotary_emb.inv_freq") { return nil }
        if config.tieWordEmbeddings && key == "lm_head.weight" { return nil }
        return key.replacingOccurrences(of: ".block_sparse_moe.", with: ".mlp.")
    }

    /// Stacks the hub's per-expert `experts.<e>.w1` (gate), `w3` (up) and `w2` (down) weights of
    /// each layer into `experts.gate_up_proj` `[experts, 2 × mlp, hidden]` (gate rows, then up) and
    /// `experts.down_proj` `[experts, hidden, mlp]`, as transformers 5 does when it loads them.
    public static func combineCheckpointTensors(_ weights: [String: Tensor], config: MixtralConfig,
                                                release: (Tensor) -> Void) throws -> [String: Tensor] {
        try stackPerExpertWeights(weights, experts: config.numLocalExperts, names: ("w1", "w3", "w2"), release: release)
    }

    public static let standardNames = StandardNames(
        layers: "model.layers", selfAttention: "self_attn", mlp: "mlp", finalNorm: "model.norm",
        embedTokens: "model.embed_tokens")
}
