import Foundation
import NNsightGGUF
import NNsightTorch

/// What the Gemma entries share: the config type, the builder, llama.cpp's GGUF names and its
/// `+1` on RMSNorm weights.
public protocol GemmaFamilyMember: ModelFamily where Config == GemmaConfig {
    static var variant: GemmaVariant { get }
    /// The family's defaults for fields its `config.json` may leave out.
    static func finish(_ config: inout GemmaConfig, given keys: Set<String>)
    /// What llama.cpp fixes or derives for this architecture instead of storing it (attention
    /// scale, window pattern, rotary bases); `keys` gets the fields it set.
    static func ggufDefaults(_ config: inout GemmaConfig, _ h: GemmaGGUFHyperparameters, keys: inout Set<String>)
}

extension GemmaFamilyMember {
    public static func decodeConfig(from data: Data) throws -> GemmaConfig {
        var config = try JSONDecoder().decode(GemmaConfig.self, from: data)
        let keys = Set(((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?.keys.map { $0 } ?? [])
        config.modelType = modelType
        finish(&config, given: keys)
        try config.validate()
        return config
    }

    public static func makeModel(_ config: GemmaConfig, device: Device) throws -> any CausalLanguageModel {
        try GemmaForCausalLM(config, variant: variant, device: device)
    }

    public static var ggufArchitectures: [String] { [modelType] }

    /// llama.cpp's `<arch>.*` hyperparameters, with what llama.cpp does not store filled in as it
    /// fills it (``ggufDefaults(_:_:keys:)``).
    public static func config(fromGGUF file: GGUFFile) throws -> GemmaConfig {
        let h: GemmaGGUFHyperparameters
        do {
            h = try GemmaGGUFHyperparameters(file.metadata, architecture: ggufArchitectures.first ?? modelType)
        } catch {
            throw ModelError.malformedCheckpoint(file: file.path ?? "(GGUF)", reason: "\(error)")
        }
        var config = GemmaConfig(
            modelType: modelType, vocabSize: h.vocabSize, hiddenSize: h.hiddenSize, intermediateSize: h.intermediateSize,
            numHiddenLayers: h.layers, numAttentionHeads: h.heads, numKeyValueHeads: h.kvHeads, headDim: h.headDim,
            maxPositionEmbeddings: h.contextLength, rmsNormEps: h.rmsNormEps, ropeTheta: h.ropeTheta,
            tieWordEmbeddings: !file.tensorNames.contains("output.weight"),
            attnLogitSoftcapping: h.attnLogitSoftcapping, finalLogitSoftcapping: h.finalLogitSoftcapping,
            slidingWindow: h.slidingWindow, bosTokenId: h.bosTokenId, eosTokenIds: h.eosTokenId.map { [$0] } ?? [],
            padTokenId: h.padTokenId)
        var keys: Set<String> = ["final_logit_softcapping", "attn_logit_softcapping", "sliding_window"]
        ggufDefaults(&config, h, keys: &keys)
        finish(&config, given: keys)
        return config
    }

    public static func ggufDefaults(_ config: inout GemmaConfig, _ h: GemmaGGUFHyperparameters, keys: inout Set<String>) {}

    public static func modelKey(forGGUFTensor name: String, config: GemmaConfig) -> String? {
        var perLayer = [
            "attn_norm": "input_layernorm",
            "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
            "attn_output": "self_attn.o_proj",
            "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
        ]
        if variant.queryKeyNorm {
            perLayer["attn_q_norm"] = "self_attn.q_norm"
            perLayer["attn_k_norm"] = "self_attn.k_norm"
        }
        if variant.sandwichNorms {
            perLayer["post_attention_norm"] = "post_attention_layernorm"
            perLayer["ffn_norm"] = "pre_feedforward_layernorm"
            perLayer["post_ffw_norm"] = "post_feedforward_layernorm"
        } else {
            perLayer["ffn_norm"] = "post_attention_layernorm"
        }
        let fixed = [
            "token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
            "output.weight": "lm_head.weight",
        ]
        return ggufModelKey(name, fixed: fixed, layerPrefix: "model.layers.", perLayer: perLayer)
    }

    /// llama.cpp's converter stores Gemma's RMSNorm weights as `1 + weight` (the factor itself;
    /// Gemma 3's `q_norm` and `k_norm` too): take the one back off.
    public static func convertGGUFTensor(_ tensor: Tensor, ggufName: String, config: GemmaConfig) throws -> Tensor {
        ggufName.hasSuffix("norm.weight") ? try tensor - 1 : tensor
    }

    /// Gemma's tokenizers name `<pad>` (id 0) and pad on the left for generation.
    public static var tokenizerDefaults: TokenizerDefaults { TokenizerDefaults(padToken: .id(0)) }

    public static var standardNames: StandardNames {
        StandardNames(layers: "model.layers", selfAttention: "self_attn", mlp: "mlp", finalNorm: "model.norm",
                      embedTokens: "model.embed_tokens")
    }
}

/// Gemma (`model_type` `gemma`): Llama's layout with GeGLU, `1 + weight` norms and scaled embeddings.
public enum GemmaFamily: GemmaFamilyMember {
    public static let modelType = "gemma"
    public static let variant = GemmaVariant.gemma

    public static func finish(_ config: inout GemmaConfig, given keys: Set<String>) {
        // transformers' GemmaMLP reads `hidden_act` (Gemma 2's reads `hidden_activation`).
        if let act = config.hiddenAct { config.hiddenActivation = act }
        config.queryPreAttnScalar = nil
        config.attnLogitSoftcapping = nil
        config.finalLogitSoftcapping = nil
        config.slidingWindow = nil
        config.ropeLocalBaseFreq = nil
        config.layerTypes = Array(repeating: .fullAttention, count: config.numHiddenLayers)
    }
}

/// Gemma 2 (`model_type` `gemma2`): sandwich norms, soft-capped attention scores (default 50) and
/// logits (default 30), and sliding-window attention (default 4096) on every other layer,
/// starting with the first (Python: `Gemma2Config.__post_init__`).
public enum Gemma2Family: GemmaFamilyMember {
    public static let modelType = "gemma2"
    public static let variant = GemmaVariant.gemma2

    public static func finish(_ config: inout GemmaConfig, given keys: Set<String>) {
        if !keys.contains("query_pre_attn_scalar") { config.queryPreAttnScalar = 256 }
        if !keys.contains("attn_logit_softcapping") { config.attnLogitSoftcapping = 50 }
        if !keys.contains("final_logit_softcapping") { config.finalLogitSoftcapping = 30 }
        if !keys.contains("sliding_window") { config.slidingWindow = 4096 }
        config.ropeLocalBaseFreq = nil
        if config.layerTypes.isEmpty {
            config.layerTypes = (0..<config.numHiddenLayers).map { $0 % 2 == 0 ? .slidingAttention : .fullAttention }
        }
    }

    /// llama.cpp does not store `query_pre_attn_scalar`: it scales Gemma 2 by `key_length ** -0.5`,
    /// or the 27B (46 layers) by `(hidden_size / heads) ** -0.5` (llm_build_gemma2), and so does this.
    public static func ggufDefaults(_ config: inout GemmaConfig, _ h: GemmaGGUFHyperparameters, keys: inout Set<String>) {
        config.queryPreAttnScalar = Double(h.layers == 46 ? config.hiddenSize / max(h.heads, 1) : config.headDim)
        keys.insert("query_pre_attn_scalar")
    }
}

/// Gemma 3's text model (`model_type` `gemma3_text`, `Gemma3ForCausalLM`): Gemma 2's layout with
/// `q_norm`/`k_norm` on each head, five local (sliding-window) layers to each global one
/// (`sliding_window_pattern` 6, or `layer_types`), local layers rotating with
/// `rope_local_base_freq` (default 10 000) and global ones with `rope_theta` (default 1 000 000)
/// and `rope_scaling`, scores scaled by `query_pre_attn_scalar ** -0.5` (default 256), no
/// attention soft-cap (transformers' Gemma 3 ignores `attn_logit_softcapping`), the final-logit
/// soft-cap only if configured. Python: `Gemma3TextConfig.__post_init__`, `convert_rope_params_to_dict`.
/// The multimodal `gemma3` checkpoints (`Gemma3ForConditionalGeneration`) are not this family.
public enum Gemma3Family: GemmaFamilyMember {
    public static let modelType = "gemma3_text"
    public static let variant = GemmaVariant.gemma3
    public static var ggufArchitectures: [String] { ["gemma3"] }

    public static func finish(_ config: inout GemmaConfig, given keys: Set<String>) {
        if !keys.contains("query_pre_attn_scalar") { config.queryPreAttnScalar = 256 }
        if !keys.contains("sliding_window") { config.slidingWindow = 4096 }
        config.attnLogitSoftcapping = nil
        if !config.ropeThetaGiven {
            config.ropeTheta = 1_000_000
            config.ropeThetaGiven = true
        }
        if config.ropeLocalBaseFreq == nil { config.ropeLocalBaseFreq = 10000 }
        if config.layerTypes.isEmpty {
            let pattern = max(config.slidingWindowPattern ?? 6, 1)
            config.layerTypes = (0..<config.numHiddenLayers).map { ($0 + 1) % pattern == 0 ? .fullAttention : .slidingAttention }
        }
    }

    /// llama.cpp (`llama_load_hparams` for `gemma3`): every sixth layer global when the file has a
    /// sliding window (else all global), local layers at base 10 000 (`rope.freq_base_swa` if
    /// written), the `rope.scaling.*` factor on the global layers only, and attention scaled by
    /// `key_length ** -0.5`, or for the 27B (62 layers) `(hidden_size / heads) ** -0.5`.
    public static func ggufDefaults(_ config: inout GemmaConfig, _ h: GemmaGGUFHyperparameters, keys: inout Set<String>) {
        config.queryPreAttnScalar = Double(h.layers == 62 ? config.hiddenSize / max(h.heads, 1) : config.headDim)
        keys.insert("query_pre_attn_scalar")
        config.ropeLocalBaseFreq = h.ropeFreqBaseSWA ?? 10000
        if h.ropeScalingType == "linear", let factor = h.ropeScalingFactor, factor != 1 {
            config.ropeScaling = LlamaConfig.RopeScaling(ropeType: "linear", factor: factor)
        }
        if let window = config.slidingWindow, window > 0 {
            config.slidingWindowPattern = h.slidingWindowPattern ?? 6
        } else {
            config.layerTypes = Array(repeating: .fullAttention, count: config.numHiddenLayers)
        }
    }
}

/// The `<arch>.*` keys llama.cpp writes for Gemma, Gemma 2 and Gemma 3.
public struct GemmaGGUFHyperparameters {
    var vocabSize, hiddenSize, intermediateSize, layers, heads, kvHeads, contextLength: Int
    var headDim: Int?
    var rmsNormEps, ropeTheta: Double
    var attnLogitSoftcapping, finalLogitSoftcapping: Double?
    var slidingWindow, bosTokenId, eosTokenId, padTokenId: Int?
    /// Gemma 3: the local layers' rotary base, scaling and window period where written.
    var ropeFreqBaseSWA, ropeScalingFactor: Double?
    var ropeScalingType: String?
    var slidingWindowPattern: Int?

    init(_ m: GGUFMetadata, architecture arch: String) throws(GGUFError) {
        let vocabulary = try GGUFTokenizerMetadata(m)
        vocabSize = try m.optional("\(arch).vocab_size", as: Int.self) ?? vocabulary.tokens.count
        hiddenSize = try m.int("\(arch).embedding_length")
        intermediateSize = try m.int("\(arch).feed_forward_length")
        layers = try m.int("\(arch).block_count")
        heads = try m.int("\(arch).attention.head_count")
        kvHeads = try m.optional("\(arch).attention.head_count_kv", as: Int.self) ?? heads
        contextLength = try m.int("\(arch).context_length")
        headDim = try m.optional("\(arch).attention.key_length", as: Int.self)
        rmsNormEps = Double(try m.float("\(arch).attention.layer_norm_rms_epsilon"))
        ropeTheta = Double(try m.optional("\(arch).rope.freq_base", as: Float.self) ?? 10000)
        attnLogitSoftcapping = try m.optional("\(arch).attn_logit_softcapping", as: Float.self).map(Double.init)
        finalLogitSoftcapping = try m.optional("\(arch).final_logit_softcapping", as: Float.self).map(Double.init)
        slidingWindow = try m.optional("\(arch).attention.sliding_window", as: Int.self)
        ropeFreqBaseSWA = try m.optional("\(arch).rope.freq_base_swa", as: Float.self).map(Double.init)
        ropeScalingType = try m.optional("\(arch).rope.scaling.type", as: String.self)
        ropeScalingFactor = try m.optional("\(arch).rope.scaling.factor", as: Float.self).map(Double.init)
        slidingWindowPattern = try? m.optional("\(arch).attention.sliding_window_pattern", as: Int.self)
        bosTokenId = vocabulary.bosTokenID
        eosTokenId = vocabulary.eosTokenID
        padTokenId = vocabulary.paddingTokenID
    }
}
