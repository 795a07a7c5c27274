import Foundation

/// The `config.json` of Gemma (`model_type` `gemma`), Gemma 2 (`gemma2`) and Gemma 3's text model
/// (`gemma3_text`). Port of transformers' `GemmaConfig`, `Gemma2Config` and `Gemma3TextConfig` (the
/// fields the model uses); the family decides the defaults that differ (Gemma 2's soft-capping,
/// sliding window and alternating `layer_types`; Gemma 3's window pattern and rotary bases).
public struct GemmaConfig: ModelConfig, SlidingWindowLayout, Equatable {
    /// How a layer attends. Python: `config.layer_types`.
    public typealias LayerType = LlamaConfig.LayerType

    public var modelType: String
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    public var headDim: Int
    /// The MLP's gate activation (`hidden_activation`, Gemma 1's `hidden_act`).
    public var hiddenActivation: String
    /// `hidden_act` as given (Gemma 1's activation field).
    var hiddenAct: String?
    public var maxPositionEmbeddings: Int
    public var rmsNormEps: Double
    /// The rotary base (Gemma 3: of the global, full-attention layers).
    public var ropeTheta: Double
    /// Whether the config gave a rotary base (Gemma 3's default differs: 1e6).
    var ropeThetaGiven = true
    /// Gemma 3: the frequency scaling of the global layers (`rope_scaling`, or
    /// `rope_parameters.full_attention`); the local layers are never scaled.
    public var ropeScaling: LlamaConfig.RopeScaling?
    /// Gemma 3: the rotary base of the local, sliding-window layers (`rope_local_base_freq`, or
    /// `rope_parameters.sliding_attention.rope_theta`); nil: the layers share ``ropeTheta``.
    public var ropeLocalBaseFreq: Double?
    /// Gemma 3 configs on the hub: every `sliding_window_pattern`-th layer is global, the others
    /// slide (read when `layer_types` is absent).
    public var slidingWindowPattern: Int?
    /// Gemma 3 (EmbeddingGemma): attention without the causal mask. Not supported: refused.
    public var useBidirectionalAttention: Bool = false
    public var attentionBias: Bool
    public var tieWordEmbeddings: Bool
    /// Attention scores are scaled by `query_pre_attn_scalar ** -0.5` (Gemma 2); nil: `head_dim ** -0.5`.
    public var queryPreAttnScalar: Double?
    /// Gemma 2: `cap · tanh(scores / cap)` on the attention scores; nil: none.
    public var attnLogitSoftcapping: Double?
    /// Gemma 2: `cap · tanh(logits / cap)` on the output logits; nil: none.
    public var finalLogitSoftcapping: Double?
    /// How many of the latest tokens a sliding-attention layer sees.
    public var slidingWindow: Int?
    /// Each layer's attention; empty means all full.
    public var layerTypes: [LayerType]
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]
    public var padTokenId: Int?

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", vocabSize = "vocab_size", hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", numKeyValueHeads = "num_key_value_heads", headDim = "head_dim"
        case hiddenActivation = "hidden_activation", hiddenAct = "hidden_act"
        case maxPositionEmbeddings = "max_position_embeddings", rmsNormEps = "rms_norm_eps"
        case ropeTheta = "rope_theta", ropeParameters = "rope_parameters", attentionBias = "attention_bias"
        case tieWordEmbeddings = "tie_word_embeddings", queryPreAttnScalar = "query_pre_attn_scalar"
        case attnLogitSoftcapping = "attn_logit_softcapping", finalLogitSoftcapping = "final_logit_softcapping"
        case slidingWindow = "sliding_window", layerTypes = "layer_types"
        case ropeScaling = "rope_scaling", ropeLocalBaseFreq = "rope_local_base_freq"
        case slidingWindowPattern = "sliding_window_pattern", useBidirectionalAttention = "use_bidirectional_attention"
        case bosTokenId = "bos_token_id", eosTokenId = "eos_token_id", padTokenId = "pad_token_id"
    }

    public init(modelType: String = "gemma2", vocabSize: Int, hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int,
                numAttentionHeads: Int, numKeyValueHeads: Int? = nil, headDim: Int? = nil,
                hiddenActivation: String = "gelu_pytorch_tanh", maxPositionEmbeddings: Int = 8192,
                rmsNormEps: Double = 1e-6, ropeTheta: Double = 10000, attentionBias: Bool = false,
                tieWordEmbeddings: Bool = true, queryPreAttnScalar: Double? = nil, attnLogitSoftcapping: Double? = nil,
                finalLogitSoftcapping: Double? = nil, slidingWindow: Int? = nil, layerTypes: [LayerType] = [],
                bosTokenId: Int? = 2, eosTokenIds: [Int] = [1], padTokenId: Int? = 0) {
        self.modelType = modelType
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.numKeyValueHeads = numKeyValueHeads ?? numAttentionHeads
        self.headDim = headDim ?? hiddenSize / max(numAttentionHeads, 1)
        self.hiddenActivation = hiddenActivation
        hiddenAct = nil
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.attentionBias = attentionBias
        self.tieWordEmbeddings = tieWordEmbeddings
        self.queryPreAttnScalar = queryPreAttnScalar
        self.attnLogitSoftcapping = attnLogitSoftcapping
        self.finalLogitSoftcapping = finalLogitSoftcapping
        self.slidingWindow = slidingWindow
        self.layerTypes = layerTypes
        self.bosTokenId = bosTokenId
        self.eosTokenIds = eosTokenIds
        self.padTokenId = padTokenId
    }

    /// transformers 5's `rope_parameters`: one set (Gemma, Gemma 2; only the default rotary), or
    /// Gemma 3's one per layer type (`full_attention`, `sliding_attention`).
    struct RopeParameters: Decodable {
        var ropeTheta: Double?
        var scaling: LlamaConfig.RopeScaling?
        var full: Single?
        var sliding: Single?

        struct Single: Decodable {
            var ropeTheta: Double?
            var scaling: LlamaConfig.RopeScaling

            enum CodingKeys: String, CodingKey { case ropeTheta = "rope_theta" }

            init(from decoder: Decoder) throws {
                ropeTheta = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Double.self, forKey: .ropeTheta)
                scaling = try LlamaConfig.RopeScaling(from: decoder)
            }
        }

        enum CodingKeys: String, CodingKey { case full = "full_attention", sliding = "sliding_attention" }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            full = try c.decodeIfPresent(Single.self, forKey: .full)
            sliding = try c.decodeIfPresent(Single.self, forKey: .sliding)
            if full == nil && sliding == nil {
                let single = try Single(from: decoder)
                ropeTheta = single.ropeTheta
                scaling = single.scaling
            }
        }
    }

    /// Decodes the fields; Gemma 2's defaults (which differ from Gemma's) are the family's to fill
    /// (`GemmaFamilyMember.finish`), so absent fields stay nil here.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        modelType = try c.decodeIfPresent(String.self, forKey: .modelType) ?? "gemma"
        vocabSize = try c.required(.vocabSize)
        hiddenSize = try c.required(.hiddenSize)
        intermediateSize = try c.required(.intermediateSize)
        numHiddenLayers = try c.required(.numHiddenLayers)
        numAttentionHeads = try c.required(.numAttentionHeads)
        numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? numAttentionHeads
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim) ?? 256
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct)
        hiddenActivation = try c.decodeIfPresent(String.self, forKey: .hiddenActivation) ?? hiddenAct ?? "gelu_pytorch_tanh"
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 8192
        rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? 1e-6
        // transformers 5 writes `rope_parameters` (Gemma 3: one set per layer type); hub configs
        // `rope_theta`, Gemma 3's `rope_local_base_freq` and `rope_scaling` (its global layers').
        let rope = try c.decodeIfPresent(RopeParameters.self, forKey: .ropeParameters)
        let theta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? rope?.full?.ropeTheta ?? rope?.ropeTheta
        ropeTheta = theta ?? 10000
        ropeThetaGiven = theta != nil
        let scaling = try c.decodeIfPresent(LlamaConfig.RopeScaling.self, forKey: .ropeScaling)
            ?? rope?.full?.scaling ?? rope?.scaling
        ropeScaling = scaling?.ropeType == "default" ? nil : scaling
        ropeLocalBaseFreq = try c.decodeIfPresent(Double.self, forKey: .ropeLocalBaseFreq) ?? rope?.sliding?.ropeTheta
        if let local = rope?.sliding?.scaling, local.ropeType != "default" {
            throw ModelError.invalidConfig(field: "rope_parameters.sliding_attention.rope_type",
                                           reason: "unsupported value \"\(local.ropeType)\" (local layers are not scaled)")
        }
        slidingWindowPattern = try c.decodeIfPresent(Int.self, forKey: .slidingWindowPattern)
        useBidirectionalAttention = try c.decodeIfPresent(Bool.self, forKey: .useBidirectionalAttention) ?? false
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? true
        queryPreAttnScalar = try c.decodeIfPresent(Double.self, forKey: .queryPreAttnScalar)
        attnLogitSoftcapping = try c.decodeIfPresent(Double.self, forKey: .attnLogitSoftcapping)
        finalLogitSoftcapping = try c.decodeIfPresent(Double.self, forKey: .finalLogitSoftcapping)
        slidingWindow = try c.decodeIfPresent(Int.self, forKey: .slidingWindow)
        layerTypes = try c.decodeIfPresent([LayerType].self, forKey: .layerTypes) ?? []
        bosTokenId = try c.decodeIfPresent(Int.self, forKey: .bosTokenId)
        eosTokenIds = try c.tokenIds(.eosTokenId)
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(modelType, forKey: .modelType)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encode(numKeyValueHeads, forKey: .numKeyValueHeads)
        try c.encode(headDim, forKey: .headDim)
        try c.encode(hiddenActivation, forKey: .hiddenActivation)
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        try c.encode(rmsNormEps, forKey: .rmsNormEps)
        try c.encode(ropeTheta, forKey: .ropeTheta)
        try c.encodeIfPresent(ropeScaling, forKey: .ropeScaling)
        try c.encodeIfPresent(ropeLocalBaseFreq, forKey: .ropeLocalBaseFreq)
        try c.encodeIfPresent(slidingWindowPattern, forKey: .slidingWindowPattern)
        if useBidirectionalAttention { try c.encode(true, forKey: .useBidirectionalAttention) }
        try c.encode(attentionBias, forKey: .attentionBias)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encodeIfPresent(queryPreAttnScalar, forKey: .queryPreAttnScalar)
        try c.encodeIfPresent(attnLogitSoftcapping, forKey: .attnLogitSoftcapping)
        try c.encodeIfPresent(finalLogitSoftcapping, forKey: .finalLogitSoftcapping)
        try c.encodeIfPresent(slidingWindow, forKey: .slidingWindow)
        try c.encode(layerTypes, forKey: .layerTypes)
        try c.encodeIfPresent(bosTokenId, forKey: .bosTokenId)
        try c.encode(eosTokenIds, forKey: .eosTokenId)
        try c.encodeIfPresent(padTokenId, forKey: .padTokenId)
    }

    /// RMSNorms per layer: 2 (Gemma), 4 with Gemma 2's sandwich norms.
    var layerNormsPerLayer: Int { modelType == "gemma" ? 2 : 4 }

    /// Gemma 3: RMSNorms over each query and key head (`q_norm`, `k_norm`).
    var hasQueryKeyNorms: Bool { modelType == "gemma3_text" }

    /// The factor on attention scores: `query_pre_attn_scalar ** -0.5`, else `head_dim ** -0.5`.
    public var attentionScaling: Double { 1 / (queryPreAttnScalar ?? Double(headDim)).squareRoot() }

    /// The parameter count's terms: the embedding (and an untied head), the layers.
    var parameterCountParts: [(field: String, parameters: Double)] {
        let h = Double(hiddenSize), d = Double(headDim), inner = Double(intermediateSize)
        let q = Double(numAttentionHeads) * d, kv = Double(numKeyValueHeads) * d
        let norms = Double(layerNormsPerLayer)
        let perLayer = 2 * h * q + 2 * h * kv + 3 * h * inner + norms * h + (hasQueryKeyNorms ? 2 * d : 0)
        return [("vocab_size", Double(vocabSize) * h * (tieWordEmbeddings ? 1 : 2)),
                ("num_hidden_layers", Double(numHiddenLayers) * perLayer + h)]
    }

    public var parameterCountEstimate: Double { parameterCountParts.reduce(0) { $0 + $1.parameters } }
    public var sizeField: String { "num_hidden_layers" }

    /// Checks every field before anything is built (see ``ModelConfig/validate()``).
    public func validate() throws {
        try ConfigCheck.size(vocabSize, "vocab_size", limit: ConfigLimits.maxVocabulary)
        try ConfigCheck.size(hiddenSize, "hidden_size", limit: ConfigLimits.maxWidth)
        try ConfigCheck.size(intermediateSize, "intermediate_size", limit: ConfigLimits.maxWidth)
        try ConfigCheck.size(numHiddenLayers, "num_hidden_layers", limit: ConfigLimits.maxLayers)
        try ConfigCheck.size(numAttentionHeads, "num_attention_heads", limit: ConfigLimits.maxHeads)
        try ConfigCheck.size(numKeyValueHeads, "num_key_value_heads", limit: ConfigLimits.maxHeads)
        try ConfigCheck.size(maxPositionEmbeddings, "max_position_embeddings", limit: ConfigLimits.maxPositions)
        try ConfigCheck.size(headDim, "head_dim", limit: ConfigLimits.maxWidth)
        guard headDim % 2 == 0 else {
            throw ModelError.invalidConfig(field: "head_dim", reason: "\(headDim) must be even (rotary embeddings rotate pairs)")
        }
        try ConfigCheck.size(numAttentionHeads * headDim, "num_attention_heads", limit: ConfigLimits.maxWidth)
        guard numAttentionHeads % numKeyValueHeads == 0 else {
            throw ModelError.invalidConfig(field: "num_key_value_heads",
                                           reason: "\(numKeyValueHeads) must divide num_attention_heads \(numAttentionHeads)")
        }
        try ConfigCheck.positive(rmsNormEps, "rms_norm_eps")
        try ConfigCheck.positive(ropeTheta, "rope_theta")
        if let local = ropeLocalBaseFreq { try ConfigCheck.positive(local, "rope_local_base_freq") }
        if let scaling = ropeScaling {
            guard scaling.ropeType == "linear" || scaling.ropeType == "llama3" else {
                throw ModelError.invalidConfig(field: "rope_scaling.rope_type", reason: "unsupported value \"\(scaling.ropeType)\"")
            }
            guard let factor = scaling.factor else {
                throw ModelError.invalidConfig(field: "rope_scaling.factor", reason: "required for \(scaling.ropeType)")
            }
            try ConfigCheck.positive(factor, "rope_scaling.factor")
        }
        if let pattern = slidingWindowPattern { try ConfigCheck.size(pattern, "sliding_window_pattern", limit: ConfigLimits.maxLayers) }
        guard !useBidirectionalAttention else {
            throw ModelError.invalidConfig(field: "use_bidirectional_attention",
                                           reason: "bidirectional Gemma 3 (EmbeddingGemma) is not supported; only the causal language model")
        }
        if let scalar = queryPreAttnScalar { try ConfigCheck.positive(scalar, "query_pre_attn_scalar") }
        if let cap = attnLogitSoftcapping { try ConfigCheck.positive(cap, "attn_logit_softcapping") }
        if let cap = finalLogitSoftcapping { try ConfigCheck.positive(cap, "final_logit_softcapping") }
        guard ["gelu_pytorch_tanh", "gelu"].contains(hiddenActivation) else {
            throw ModelError.invalidConfig(field: "hidden_activation", reason: "unsupported value \"\(hiddenActivation)\"")
        }
        try ConfigCheck.token(padTokenId, "pad_token_id", vocabulary: vocabSize)
        guard layerTypes.isEmpty || layerTypes.count == numHiddenLayers else {
            throw ModelError.invalidConfig(field: "layer_types",
                                           reason: "\(layerTypes.count) entries for num_hidden_layers \(numHiddenLayers)")
        }
        if layerTypes.contains(.slidingAttention) {
            guard let window = slidingWindow, window > 0 else {
                throw ModelError.invalidConfig(field: "sliding_window", reason: "sliding-attention layers need a positive window")
            }
        }
        try ConfigCheck.parameterCount(parameterCountParts)
    }
}
