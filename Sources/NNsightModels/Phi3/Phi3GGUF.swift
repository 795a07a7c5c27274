import Foundation
import NNsightGGUF
import NNsightTorch

/// llama.cpp's `phi3` GGUF files, as `convert_hf_to_gguf.py` writes them: a renaming only.
/// The fused `qkv_proj` is `attn_qkv` and the fused `gate_up_proj` (gate rows, then up rows) is
/// `ffn_up`, both in Hugging Face's layout; norms are stored as they are. Hyperparameters
/// `phi3.*`: the rotated share as `rope.dimension_count`, `attention.sliding_window` (0 when the
/// config has none). The 128k-context checkpoints' `rope_factors_long`/`rope_factors_short`
/// (`longrope`) are refused by name, as their `config.json` is.
extension Phi3Family {
    public static let ggufArchitectures = ["phi3"]

    public static func config(fromGGUF file: GGUFFile) throws -> Phi3Config {
        let path = file.path ?? "(GGUF)"
        if let factors = file.tensorNames.first(where: { $0.hasPrefix("rope_factors_") }) {
            throw ModelError.malformedCheckpoint(
                file: path, reason: "\(factors): Phi-3's longrope scaling (the 128k-context models) is not supported")
        }
        let m = file.metadata, arch = "phi3"
        let vocabulary = try GGUFTokenizerMetadata(m)
        let hidden = try m.int("\(arch).embedding_length"), heads = try m.int("\(arch).attention.head_count")
        let headSize = hidden / max(heads, 1)
        let rotated = try m.optional("\(arch).rope.dimension_count", as: Int.self) ?? headSize
        let window = try m.optional("\(arch).attention.sliding_window", as: Int.self) ?? 0
        var llama = LlamaConfig(
            modelType: modelType,
            vocabSize: try m.optional("\(arch).vocab_size", as: Int.self) ?? vocabulary.tokens.count,
            hiddenSize: hidden, intermediateSize: try m.int("\(arch).feed_forward_length"),
            numHiddenLayers: try m.int("\(arch).block_count"), numAttentionHeads: heads,
            numKeyValueHeads: try m.optional("\(arch).attention.head_count_kv", as: Int.self) ?? heads,
            maxPositionEmbeddings: try m.int("\(arch).context_length"),
            rmsNormEps: ggufDecimal(try m.float("\(arch).attention.layer_norm_rms_epsilon")),
            ropeTheta: ggufDecimal(try m.optional("\(arch).rope.freq_base", as: Float.self) ?? 10000),
            tieWordEmbeddings: !file.tensorNames.contains("output.weight"),
            bosTokenId: vocabulary.bosTokenID, eosTokenIds: vocabulary.eosTokenID.map { [$0] } ?? [],
            padTokenId: vocabulary.paddingTokenID, slidingWindow: window > 0 ? window : nil)
        llama.layerTypes = Array(repeating: window > 0 ? .slidingAttention : .fullAttention, count: llama.numHiddenLayers)
        return Phi3Config(llama, partialRotaryFactor: Double(rotated) / Double(max(headSize, 1)))
    }

    public static func modelKey(forGGUFTensor name: String, config: Phi3Config) -> String? {
        ggufModelKey(
            name,
            fixed: ["token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
                    "output.weight": "lm_head.weight"],
            layerPrefix: "model.layers.",
            perLayer: ["attn_norm": "input_layernorm", "attn_qkv": "self_attn.qkv_proj", "attn_output": "self_attn.o_proj",
                       "ffn_norm": "post_attention_layernorm", "ffn_up": "mlp.gate_up_proj", "ffn_down": "mlp.down_proj"])
    }
}
