import Foundation
import NNsightGGUF
import NNsightTorch

/// llama.cpp's `gpt2` GGUF files, as `convert_hf_to_gguf.py` writes them:
/// - names: `token_embd` (`wte`), `position_embd` (`wpe`), `blk.<i>.attn_norm` (`ln_1`),
///   `attn_qkv` (`attn.c_attn`), `attn_output` (`attn.c_proj`), `ffn_norm` (`ln_2`), `ffn_up`
///   (`mlp.c_fc`), `ffn_down` (`mlp.c_proj`), `output_norm` (`ln_f`), and `output` only when the
///   head is not tied (GPT-2's checkpoints tie it: llama.cpp then reads `token_embd`);
/// - the `Conv1D` weights, `[in, out]` in Hugging Face's checkpoints, stored transposed
///   (`[out, in]`, as a linear layer's): ``convertGGUFTensor(_:ggufName:config:)`` transposes back;
/// - hyperparameters `gpt2.*`: `feed_forward_length` (always 4 × width as the converter writes
///   it), `attention.layer_norm_epsilon`; no dropout (none in inference), `gelu_new` activation.
extension GPT2Family {
    public static let ggufArchitectures = ["gpt2"]

    public static func config(fromGGUF file: GGUFFile) throws -> GPT2Config {
        let m = file.metadata, arch = "gpt2"
        let vocabulary = try GGUFTokenizerMetadata(m)
        let width = try m.int("\(arch).embedding_length")
        let inner = try m.int("\(arch).feed_forward_length")
        return GPT2Config(
            vocabSize: try m.optional("\(arch).vocab_size", as: Int.self) ?? vocabulary.tokens.count,
            nPositions: try m.int("\(arch).context_length"), nEmbd: width, nLayer: try m.int("\(arch).block_count"),
            nHead: try m.int("\(arch).attention.head_count"), nInner: inner == 4 * width ? nil : inner,
            layerNormEpsilon: ggufDecimal(try m.float("\(arch).attention.layer_norm_epsilon")),
            activationFunction: "gelu_new", tieWordEmbeddings: !file.tensorNames.contains("output.weight"),
            bosTokenId: vocabulary.bosTokenID, eosTokenId: vocabulary.eosTokenID,
            embdPdrop: 0, attnPdrop: 0, residPdrop: 0)
    }

    public static func modelKey(forGGUFTensor name: String, config: GPT2Config) -> String? {
        ggufModelKey(
            name,
            fixed: ["token_embd.weight": "transformer.wte.weight", "position_embd.weight": "transformer.wpe.weight",
                    "output_norm.weight": "transformer.ln_f.weight", "output_norm.bias": "transformer.ln_f.bias",
                    "output.weight": "lm_head.weight"],
            layerPrefix: "transformer.h.",
            perLayer: ["attn_norm": "ln_1", "attn_qkv": "attn.c_attn", "attn_output": "attn.c_proj", "ffn_norm": "ln_2",
                       "ffn_up": "mlp.c_fc", "ffn_down": "mlp.c_proj"])
    }

    /// The `Conv1D` weights back to `[in, out]`.
    public static func convertGGUFTensor(_ tensor: Tensor, ggufName: String, config: GPT2Config) throws -> Tensor {
        let conv1D = [".attn_qkv.weight", ".attn_output.weight", ".ffn_up.weight", ".ffn_down.weight"]
        guard conv1D.contains(where: { ggufName.hasSuffix($0) }) else { return tensor }
        return try tensor.transpose(0, 1).contiguous()
    }
}
