import NNsightTorch

/// GPT-2 in the registry (`model_type` `gpt2`): `GPT2LMHeadModel`, safetensors checkpoints saved
/// from `GPT2LMHeadModel` or `GPT2Model` (whose keys lack the `transformer.` prefix).
public enum GPT2Family: ModelFamily {
    public static let modelType = "gpt2"

    public static func makeModel(_ config: GPT2Config, device: Device) throws -> any CausalLanguageModel {
        try GPT2LMHeadModel(config, device: device)
    }

    /// Drops the causal-mask buffers (`attn.bias`, `attn.masked_bias`, recomputed) and a tied
    /// head; adds the `transformer.` prefix that `GPT2Model` checkpoints lack.
    public static func modelKey(forCheckpointKey key: String, config: GPT2Config) -> String? {
        if key.hasSuffix(".attn.bias") || key.hasSuffix(".attn.masked_bias") { return nil }
        if key == "lm_head.weight" { return config.tieWordEmbeddings ? nil : key }
        return key.hasPrefix("transformer.") ? key : "transformer." + key
    }

    public static let standardNames = StandardNames(
        layers: "transformer.h", selfAttention: "attn", mlp: "mlp", finalNorm: "transformer.ln_f",
        embedTokens: "transformer.wte")
}
