import Foundation
import NNsightGGUF
import NNsightTorch

/// llama.cpp's `gptneox` GGUF files (Pythia and the other GPT-NeoX checkpoints), as
/// `convert_hf_to_gguf.py` writes them:
/// - names: `token_embd`, `blk.<i>.attn_norm`, `attn_qkv`, `attn_output`, `ffn_norm`, `ffn_up`,
///   `ffn_down`, `output_norm`, `output` (the head; absent means it shares `token_embd`);
/// - `attn_qkv` regrouped: Hugging Face interleaves q, k and v per head
///   (`[heads, 3, head_size]` rows); llama.cpp stores all q rows, then all k, then all v, for the
///   weight and the bias alike. ``convertGGUFTensor(_:ggufName:config:)`` interleaves them again;
/// - hyperparameters `gptneox.*`: no rope theta (llama.cpp assumes 10000 unless
///   `rope.freq_base` is present), the rotated share as `rope.dimension_count`, the residual form
///   as `use_parallel_residual`, biases known from the `attn_qkv.bias` tensor.
extension GPTNeoXFamily {
    public static let ggufArchitectures = ["gptneox"]

    public static func config(fromGGUF file: GGUFFile) throws -> GPTNeoXConfig {
        let m = file.metadata, arch = "gptneox"
        let vocabulary = try GGUFTokenizerMetadata(m)
        let hidden = try m.int("\(arch).embedding_length"), heads = try m.int("\(arch).attention.head_count")
        let headSize = hidden / max(heads, 1)
        let rotated = try m.optional("\(arch).rope.dimension_count", as: Int.self) ?? headSize
        return GPTNeoXConfig(
            vocabSize: try m.optional("\(arch).vocab_size", as: Int.self) ?? vocabulary.tokens.count,
            hiddenSize: hidden, numHiddenLayers: try m.int("\(arch).block_count"), numAttentionHeads: heads,
            intermediateSize: try m.int("\(arch).feed_forward_length"), hiddenAct: "gelu",
            maxPositionEmbeddings: try m.int("\(arch).context_length"),
            layerNormEps: ggufDecimal(try m.float("\(arch).attention.layer_norm_epsilon")),
            useParallelResidual: try m.optional("\(arch).use_parallel_residual", as: Bool.self) ?? true,
            attentionBias: file.tensorNames.contains("blk.0.attn_qkv.bias"),
            ropeTheta: ggufDecimal(try m.optional("\(arch).rope.freq_base", as: Float.self) ?? 10000),
            partialRotaryFactor: Double(rotated) / Double(max(headSize, 1)),
            tieWordEmbeddings: !file.tensorNames.contains("output.weight"),
            bosTokenId: vocabulary.bosTokenID, eosTokenIds: vocabulary.eosTokenID.map { [$0] } ?? [],
            padTokenId: vocabulary.paddingTokenID)
    }

    public static func modelKey(forGGUFTensor name: String, config: GPTNeoXConfig) -> String? {
        ggufModelKey(
            name,
            fixed: ["token_embd.weight": "gpt_neox.embed_in.weight", "output_norm.weight": "gpt_neox.final_layer_norm.weight",
                    "output_norm.bias": "gpt_neox.final_layer_norm.bias", "output.weight": "lm_head.weight"],
            layerPrefix: "gpt_neox.layers.",
            perLayer: ["attn_norm": "input_layernorm", "attn_qkv": "attention.query_key_value",
                       "attn_output": "attention.dense", "ffn_norm": "post_attention_layernorm",
                       "ffn_up": "mlp.dense_h_to_4h", "ffn_down": "mlp.dense_4h_to_h"])
    }

    /// `attn_qkv` back to NeoX's per-head `[q, k, v]` rows: `[3, heads, head_size, …]` → `[heads, 3, head_size, …]`.
    public static func convertGGUFTensor(_ tensor: Tensor, ggufName: String, config: GPTNeoXConfig) throws -> Tensor {
        guard ggufName.hasSuffix(".attn_qkv.weight") || ggufName.hasSuffix(".attn_qkv.bias") else { return tensor }
        let shape = tensor.shape, heads = config.numAttentionHeads
        guard let rows = shape.first, rows == 3 * config.hiddenSize else {
            throw ModelError.malformedCheckpoint(
                file: "(GGUF)", reason: "\(ggufName) has shape \(shape), expected \(3 * config.hiddenSize) rows")
        }
        let rest = Array(shape.dropFirst())
        return try tensor.view([3, heads, rows / 3 / heads] + rest).transpose(0, 1).reshape(shape).contiguous()
    }
}
