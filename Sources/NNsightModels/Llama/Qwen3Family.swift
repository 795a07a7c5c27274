import Foundation
import NNsightGGUF
import NNsightTorch

/// Qwen3 (`model_type` `qwen3`): the Llama layout with an RMSNorm on each query and key head
/// (`q_norm`, `k_norm`, before the rotary embedding), `attention_bias` on all four projections,
/// `head_dim` 128 unless given, and Qwen2's sliding-window fields. Port of transformers'
/// models/qwen3/modeling_qwen3.py; llama.cpp's `qwen3` GGUF names the norms `attn_q_norm` and
/// `attn_k_norm` and permutes nothing.
public enum Qwen3Family: LlamaFamilyMember {
    public static let modelType = "qwen3"
    public static let variant = LlamaVariant(classPrefix: "Qwen3", outputProjectionBias: true, ggufPermutesRotaryRows: false,
                                             queryKeyNorm: true)
    public static let ggufArchitectures = ["qwen3"]

    public static func finish(_ config: inout LlamaConfig) {
        if !config.headDimGiven {
            config.headDim = 128
            config.headDimGiven = true
        }
        Qwen2Family.finish(slidingWindowOf: &config)
        config.queryKeyNormParameters = 2 * Double(config.headDim)
    }

    /// llama.cpp writes Qwen3's `head_dim` as `qwen3.attention.key_length` (no rope dimension count).
    public static func config(fromGGUF file: GGUFFile) throws -> LlamaConfig {
        var config = try llamaConfig(fromGGUF: file, modelType: modelType)
        // Present and an integer, else the rope dimension count (or hidden / heads) stands.
        if let keyLength = try? file.metadata.optional("qwen3.attention.key_length", as: Int.self) {
            config.headDim = keyLength
        }
        config.headDimGiven = true
        finish(&config)
        return config
    }

    public static func modelKey(forGGUFTensor name: String, config: LlamaConfig) -> String? {
        for (gguf, key) in [("attn_q_norm.weight", "self_attn.q_norm.weight"), ("attn_k_norm.weight", "self_attn.k_norm.weight")]
        where name.hasSuffix("." + gguf) {
            let parts = name.split(separator: ".")
            guard parts.count == 4, parts[0] == "blk", let layer = Int(parts[1]) else { return nil }
            return "model.layers.\(layer).\(key)"
        }
        return llamaModelKey(forGGUFTensor: name)
    }
}
