import Foundation
import NNsightGGUF
import NNsightTorch

/// How a member of the Llama family differs from Llama in code (its `config.json` says the rest).
public struct LlamaVariant: Sendable, Equatable {
    /// The prefix of transformers' class names (`Qwen2Attention`).
    public var classPrefix: String
    /// Whether `o_proj` has a bias when `attention_bias` is set (Llama: yes; Qwen2: never).
    public var outputProjectionBias: Bool
    /// Whether llama.cpp permuted the rows of Q and K for its rotary layout when it wrote the
    /// GGUF (`convert_hf_to_gguf.py` does for `llama`, not for `qwen2`).
    public var ggufPermutesRotaryRows: Bool
    /// Whether attention norms each query and key head (`q_norm`, `k_norm`: Qwen3).
    public var queryKeyNorm = false

    public static let llama = LlamaVariant(classPrefix: "Llama", outputProjectionBias: true, ggufPermutesRotaryRows: true)
    public static let mistral = LlamaVariant(classPrefix: "Mistral", outputProjectionBias: true, ggufPermutesRotaryRows: false)
    public static let qwen2 = LlamaVariant(classPrefix: "Qwen2", outputProjectionBias: false, ggufPermutesRotaryRows: false)
}

/// What the three Llama-family entries share: the config type, the builder, the GGUF mapping.
public protocol LlamaFamilyMember: ModelFamily where Config == LlamaConfig {
    static var variant: LlamaVariant { get }
    /// The family's reading of the sliding-window fields (`sliding_window`, `use_sliding_window`,
    /// `max_window_layers`, `layer_types`) and other family defaults.
    static func finish(_ config: inout LlamaConfig)
}

extension LlamaFamilyMember {
    public static func decodeConfig(from data: Data) throws -> LlamaConfig {
        var config = try JSONDecoder().decode(LlamaConfig.self, from: data)
        config.modelType = modelType
        finish(&config)
        try config.validate()
        return config
    }

    public static func makeModel(_ config: LlamaConfig, device: Device) throws -> any CausalLanguageModel {
        try LlamaForCausalLM(config, variant: variant, device: device)
    }

    public static func config(fromGGUF file: GGUFFile) throws -> LlamaConfig {
        var config = try llamaConfig(fromGGUF: file, modelType: modelType)
        finish(&config)
        return config
    }

    public static func modelKey(forGGUFTensor name: String, config: LlamaConfig) -> String? {
        llamaModelKey(forGGUFTensor: name)
    }

    /// llama.cpp interleaves the two rotary halves of each head's rows of Q and K (for `llama`).
    public static func convertGGUFTensor(_ tensor: Tensor, ggufName: String, config: LlamaConfig) throws -> Tensor {
        guard variant.ggufPermutesRotaryRows else { return tensor }
        if ggufName.hasSuffix("attn_q.weight") { return try unpermuteRotaryRows(tensor, heads: config.numAttentionHeads) }
        if ggufName.hasSuffix("attn_k.weight") { return try unpermuteRotaryRows(tensor, heads: config.numKeyValueHeads) }
        return tensor
    }

    public static var standardNames: StandardNames {
        StandardNames(layers: "model.layers", selfAttention: "self_attn", mlp: "mlp", finalNorm: "model.norm",
                      embedTokens: "model.embed_tokens")
    }
}

/// Llama 1–3 (`model_type` `llama`): no sliding window.
public enum LlamaFamily: LlamaFamilyMember {
    public static let modelType = "llama"
    public static let variant = LlamaVariant.llama
    public static let ggufArchitectures = ["llama"]

    public static func finish(_ config: inout LlamaConfig) {
        config.slidingWindow = nil
        config.layerTypes = Array(repeating: .fullAttention, count: config.numHiddenLayers)
    }
}

/// Mistral (`model_type` `mistral`): every layer attends over the last `sliding_window` tokens
/// when the config sets one (Python: `create_sliding_window_causal_mask`).
public enum MistralFamily: LlamaFamilyMember {
    public static let modelType = "mistral"
    public static let variant = LlamaVariant.mistral
    public static let ggufArchitectures = ["mistral"]

    public static func finish(_ config: inout LlamaConfig) {
        config.slideEveryLayerWhenWindowed()
    }
}

/// Qwen2 (`model_type` `qwen2`): q/k/v biases always, no `o_proj` bias; with
/// `use_sliding_window`, layers from `max_window_layers` on use the window (or as `layer_types`
/// says).
public enum Qwen2Family: LlamaFamilyMember {
    public static let modelType = "qwen2"
    public static let variant = LlamaVariant.qwen2
    public static let ggufArchitectures = ["qwen2"]

    public static func finish(_ config: inout LlamaConfig) {
        config.attentionBias = true
        finish(slidingWindowOf: &config)
    }

    /// Qwen2's (and Qwen3's) reading of `use_sliding_window`, `max_window_layers`, `layer_types`.
    static func finish(slidingWindowOf config: inout LlamaConfig) {
        if !config.useSlidingWindow { config.slidingWindow = nil }
        if config.layerTypes.isEmpty || config.slidingWindow == nil {
            let first = config.maxWindowLayers ?? config.numHiddenLayers
            config.layerTypes = (0..<config.numHiddenLayers).map {
                config.slidingWindow != nil && $0 >= first ? .slidingAttention : .fullAttention
            }
        }
    }
}
