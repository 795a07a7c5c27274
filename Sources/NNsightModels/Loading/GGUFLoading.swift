import Foundation
import NNsightGGUF
import NNsightNN
import NNsightTokenizers
import NNsightTorch

/// Every tensor of a GGUF file under the model's name for it (the family's
/// `modelKey(forGGUFTensor:config:)`), dequantized straight into a float32 tensor, put in the
/// model's layout by the family's `convertGGUFTensor` (then converted to `dtype`, one tensor at
/// a time), and those the model holds as one joined by its `combineGGUFTensors`. The file's pages
/// under each tensor are given back as soon as it is dequantized (``MappedPages``): nothing views
/// the file afterwards, so a load holds the dequantized weights, not the file beside them.
///
/// The CPU matrices named in `transposedLayout` (a tied head's embedding, which
/// `packLinearWeights(packingShared: false)` holds transposed) are dequantized a block of rows at
/// a time straight into that layout, so that the load never holds them in both layouts.
func readGGUFTensors<Family: ModelFamily>(_ file: GGUFFile, family: Family.Type, config: Family.Config,
                                          dtype: DType, device: (String) -> Device = { _ in .cpu },
                                          transposedLayout: Set<String> = []) throws -> [String: Tensor] {
    let path = file.path ?? "(GGUF)"
    var weights: [String: Tensor] = [:]
    let pages = MappedPages([file.storage])
    for info in file.tensors {
        guard let name = Family.modelKey(forGGUFTensor: info.name, config: config) else {
            throw ModelError.malformedCheckpoint(file: path, reason: "unexpected tensor \"\(info.name)\" for \(Family.modelType)")
        }
        let stored = try file.tensorData(info.name)
        let target = device(name)
        var tensor: Tensor
        if transposedLayout.contains(name), target == .cpu, info.shape.count == 2 {
            tensor = try dequantizedTransposed(stored)
        } else {
            tensor = try Tensor.empty(info.shape, dtype: .float32)
            try tensor.withUnsafeMutableBytes { bytes in
                try stored.dequantize(into: bytes.bindMemory(to: Float.self))
            }
        }
        withExtendedLifetime(stored.storage) { pages.release(stored.bytes) }
        tensor = try Family.convertGGUFTensor(tensor, ggufName: info.name, config: config)
        if dtype != .float32 { tensor = try tensor.to(dtype) }
        // One tensor at a time: the host copy is freed before the next is dequantized.
        weights[name] = target == .cpu ? tensor : try tensor.to(device: target)
    }
    return try Family.combineGGUFTensors(weights, config: config)
}

/// A 2-D GGUF tensor `[rows, columns]` dequantized into the transposed layout (a `[rows, columns]`
/// view of a contiguous `[columns, rows]` float32 tensor), about `blockElements` values at a time
/// through one small scratch tensor. The scratch stays under glibc's initial mmap threshold
/// (128 KiB) on purpose: freeing a larger, mmapped block raises that threshold to its size, and
/// the weights dequantized after it (a few MiB each) would then come from the heap, whose holes
/// stay resident when the packing that follows frees them (measured: +226 MiB on SmolLM2).
func dequantizedTransposed(_ stored: GGUFTensorData, blockElements: Int = 1 << 14) throws -> Tensor {
    let rows = stored.info.shape[0], columns = stored.info.shape[1]
    let transposed = try Tensor.empty([columns, rows], dtype: .float32)
    let blockRows = max(1, min(rows, blockElements / max(columns, 1)))
    let scratch = try Tensor.empty([blockRows, columns], dtype: .float32)
    for start in stride(from: 0, to: rows, by: blockRows) {
        let length = min(blockRows, rows - start)
        let block = try scratch.narrow(dim: 0, start: 0, length: length)
        try block.withUnsafeMutableBytes { bytes in
            try stored.dequantize(rows: start..<(start + length), into: bytes.bindMemory(to: Float.self))
        }
        try transposed.narrow(dim: 1, start: start, length: length).copy_(block.t())
    }
    return try transposed.t()
}

/// The tokenizer of a GGUF file's `tokenizer.ggml.*` vocabulary.
func ggufTokenizer(_ file: GGUFFile) throws -> Tokenizer {
    let vocabulary = try GGUFTokenizerMetadata(file.metadata)
    let ggufVocabulary = GGUFVocabulary(
        model: vocabulary.model, pre: vocabulary.preTokenizer, tokens: vocabulary.tokens,
        tokenTypes: vocabulary.tokenTypes, scores: vocabulary.scores, merges: vocabulary.merges,
        bosTokenId: vocabulary.bosTokenID, eosTokenId: vocabulary.eosTokenID,
        unknownTokenId: vocabulary.unknownTokenID, paddingTokenId: vocabulary.paddingTokenID,
        addBOS: vocabulary.addBOS, addEOS: vocabulary.addEOS, addSpacePrefix: vocabulary.addSpacePrefix,
        architecture: vocabulary.architecture)
    return try Tokenizer(ggufVocabulary: ggufVocabulary).withChatTemplate(
        vocabulary.chatTemplate, specialTokens: Tokenizer.specialTokenStrings(ggufVocabulary: ggufVocabulary))
}

// MARK: llama.cpp's conventions for the Llama family (llama, mistral, qwen2)

/// The Llama-family configuration of a GGUF file, from its `<arch>.*` hyperparameters.
func llamaConfig(fromGGUF file: GGUFFile, modelType: String) throws -> LlamaConfig {
    let hyper = try GGUFLlamaHyperparameters(file.metadata)
    let vocabulary = try GGUFTokenizerMetadata(file.metadata)
    return LlamaConfig(
        modelType: modelType, vocabSize: hyper.vocabSize, hiddenSize: hyper.embeddingLength,
        intermediateSize: hyper.feedForwardLength, numHiddenLayers: hyper.blockCount,
        numAttentionHeads: hyper.headCount, numKeyValueHeads: hyper.headCountKV,
        headDim: hyper.ropeDimensionCount, maxPositionEmbeddings: hyper.contextLength,
        rmsNormEps: Double(hyper.rmsNormEpsilon), ropeTheta: Double(hyper.ropeFreqBase),
        attentionBias: file.tensorNames.contains("blk.0.attn_q.bias"),
        tieWordEmbeddings: !file.tensorNames.contains("output.weight"),
        bosTokenId: vocabulary.bosTokenID, eosTokenIds: vocabulary.eosTokenID.map { [$0] } ?? [],
        padTokenId: vocabulary.paddingTokenID)
}

/// Undoes llama.cpp's permutation of a `[rows, columns]` Q or K weight:
/// GGUF rows are `[heads, half, 2, …]` where Hugging Face's are `[heads, 2, half, …]`.
func unpermuteRotaryRows(_ weight: Tensor, heads: Int) throws -> Tensor {
    let rows = try weight.size(0), columns = try weight.size(1)
    return try weight.view([heads, rows / heads / 2, 2, columns]).transpose(1, 2).reshape([rows, columns]).contiguous()
}

/// The Hugging Face key of a llama.cpp tensor name of the Llama family. llama.cpp stores the
/// RMSNorm weights as they are (no `1 +` offset, unlike Gemma's), so norms need no conversion.
func llamaModelKey(forGGUFTensor name: String) -> String? {
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

// MARK: Helpers for the families' GGUF hooks

/// The model key of a llama.cpp tensor name: one of `fixed` (`token_embd.weight`), or
/// `blk.<i>.<name>.<weight|bias>` with `<name>` in `perLayer`, answered as
/// `<layerPrefix><i>.<perLayer[name]>.<weight|bias>`. Nil for any other name.
func ggufModelKey(_ name: String, fixed: [String: String], layerPrefix: String, perLayer: [String: String]) -> String? {
    if let known = fixed[name] { return known }
    let parts = name.split(separator: ".")
    guard parts.count == 4, parts[0] == "blk", let layer = Int(parts[1]), layer >= 0,
          parts[3] == "weight" || parts[3] == "bias", let module = perLayer[String(parts[2])] else { return nil }
    return "\(layerPrefix)\(layer).\(module).\(parts[3])"
}

/// A float32 hyperparameter as the decimal it was written from: GGUF stores `1e-05` as the nearest
/// float32 (9.99999974e-06); its shortest decimal form is the `config.json` value again.
func ggufDecimal(_ value: Float) -> Double {
    Double(value.description) ?? Double(value)
}
