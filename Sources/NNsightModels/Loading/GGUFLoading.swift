import Foundation
import NNsightGGUF
import NNsightNN
import NNsightTokenizers
import NNsightTorch

/// The Llama-family configuration of a GGUF file (llama.cpp's format), from its metadata.
func ggufConfiguration(_ file: GGUFFile) throws -> LlamaConfig {
    let hyper = try GGUFLlamaHyperparameters(file.metadata)
    guard ["llama", "qwen2", "mistral"].contains(hyper.architecture) else {
        throw ModelError.unsupportedArchitecture("\(hyper.architecture) (GGUF)")
    }
    let vocabulary = try GGUFTokenizerMetadata(file.metadata)
    return LlamaConfig(
        modelType: hyper.architecture, vocabSize: hyper.vocabSize, hiddenSize: hyper.embeddingLength,
        intermediateSize: hyper.feedForwardLength, numHiddenLayers: hyper.blockCount,
        numAttentionHeads: hyper.headCount, numKeyValueHeads: hyper.headCountKV,
        headDim: hyper.ropeDimensionCount, maxPositionEmbeddings: hyper.contextLength,
        rmsNormEps: Double(hyper.rmsNormEpsilon), ropeTheta: Double(hyper.ropeFreqBase),
        attentionBias: file.tensorNames.contains("blk.0.attn_q.bias"),
        tieWordEmbeddings: !file.tensorNames.contains("output.weight"),
        bosTokenId: vocabulary.bosTokenID, eosTokenIds: vocabulary.eosTokenID.map { [$0] } ?? [],
        padTokenId: vocabulary.paddingTokenID)
}

/// Every tensor of a GGUF file under its Hugging Face name, dequantized straight into a float32
/// tensor (then converted to `dtype`, one tensor at a time), with Q/K rows put back in Hugging
/// Face's order.
func readGGUFTensors(_ file: GGUFFile, config: LlamaConfig, dtype: DType) throws -> [String: Tensor] {
    let path = file.path ?? "(GGUF)"
    var weights: [String: Tensor] = [:]
    for info in file.tensors {
        guard let name = huggingFaceName(info.name) else {
            throw ModelError.malformedCheckpoint(file: path, reason: "unexpected tensor \"\(info.name)\"")
        }
        var tensor = try Tensor.empty(info.shape, dtype: .float32)
        try tensor.withUnsafeMutableBytes { bytes in
            try file.tensorData(info.name).dequantize(into: bytes.bindMemory(to: Float.self))
        }
        // llama.cpp interleaves the two rotary halves of each head's rows of Q and K.
        if config.modelType == "llama" && (info.name.hasSuffix("attn_q.weight") || info.name.hasSuffix("attn_k.weight")) {
            let heads = info.name.hasSuffix("attn_q.weight") ? config.numAttentionHeads : config.numKeyValueHeads
            tensor = try unpermuteRotaryRows(tensor, heads: heads)
        }
        weights[name] = dtype == .float32 ? tensor : try tensor.to(dtype)
    }
    return weights
}

/// The tokenizer of a GGUF file's `tokenizer.ggml.*` vocabulary.
func ggufTokenizer(_ file: GGUFFile) throws -> Tokenizer {
    let vocabulary = try GGUFTokenizerMetadata(file.metadata)
    let ggufVocabulary = GGUFVocabulary(
        model: vocabulary.model, pre: vocabulary.preTokenizer, tokens: vocabulary.tokens,
        tokenTypes: vocabulary.tokenTypes, scores: vocabulary.scores, merges: vocabulary.merges,
        bosTokenId: vocabulary.bosTokenID, eosTokenId: vocabulary.eosTokenID,
        unknownTokenId: vocabulary.unknownTokenID, paddingTokenId: vocabulary.paddingTokenID,
        addBOS: vocabulary.addBOS, addEOS: vocabulary.addEOS)
    return try Tokenizer(ggufVocabulary: ggufVocabulary).withChatTemplate(
        vocabulary.chatTemplate, specialTokens: Tokenizer.specialTokenStrings(ggufVocabulary: ggufVocabulary))
}

/// Undoes llama.cpp's permutation of a `[rows, columns]` Q or K weight:
/// GGUF rows are `[heads, half, 2, …]` where Hugging Face's are `[heads, 2, half, …]`.
func unpermuteRotaryRows(_ weight: Tensor, heads: Int) throws -> Tensor {
    let rows = try weight.size(0), columns = try weight.size(1)
    return try weight.view([heads, rows / heads / 2, 2, columns]).transpose(1, 2).reshape([rows, columns]).contiguous()
}

/// The Hugging Face key of a llama.cpp tensor name.
func huggingFaceName(_ name: String) -> String? {
    let fixed = [
        "token_embd.weight": "model.embed_tokens.weight",
        "output_norm.weight": "model.norm.weight",
        "output.weight": "lm_head.weight",
    ]
    if let known = fixed[name] { return known }
    let parts = name.split(separator: ".", maxSplits: 2)
    guard parts.count == 3, parts[0] == "blk", let layer = Int(parts[1]) else { return nil }
    let perLayer = [
        "attn_norm.weight": "input_layernorm.weight",
        "ffn_norm.weight": "post_attention_layernorm.weight",
        "attn_q.weight": "self_attn.q_proj.weight", "attn_q.bias": "self_attn.q_proj.bias",
        "attn_k.weight": "self_attn.k_proj.weight", "attn_k.bias": "self_attn.k_proj.bias",
        "attn_v.weight": "self_attn.v_proj.weight", "attn_v.bias": "self_attn.v_proj.bias",
        "attn_output.weight": "self_attn.o_proj.weight",
        "ffn_gate.weight": "mlp.gate_proj.weight",
        "ffn_up.weight": "mlp.up_proj.weight",
        "ffn_down.weight": "mlp.down_proj.weight",
    ]
    guard let suffix = perLayer[String(parts[2])] else { return nil }
    return "model.layers.\(layer).\(suffix)"
}
