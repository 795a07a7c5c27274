import Foundation

/// The `config.json` of Gemma (`model_type` `gemma`) and Gemma 2 (`gemma2`). Port of transformers'
/// `GemmaConfig` and `Gemma2Config` (the fields the model uses); the family decides the defaults
/// that differ (Gemma 2's soft-capping, sliding window and alternating `layer_types`).
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
    public var ropeTheta: Double
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

    /// transformers 5's `rope_parameters` (only the default rotary is supported).
    struct RopeParameters: Codable, Equatable {
        var ropeType: String?
        var ropeTheta: Double?
        enum CodingKeys: String, CodingKey { case ropeType = "rope_type", ropeTheta = "rope_theta" }
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
        let rope = try c.decodeIfPresent(RopeParameters.self, forKey: .ropeParameters)
        if let type = rope?.ropeType, type != "default" {
            throw ModelError.invalidConfig(field: "rope_parameters.rope_type", reason: "unsupported value \"\(type)\"")
        }
        ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? rope?.ropeTheta ?? 10000
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? true
        queryPreAttnScalar = try c.decodeIfPresent(Double.self, forKey: .queryPreAttnScalar)
        attnLogitSoftcapping = try c.decodeIfPresent(Double.self, forKey: .attnLogitSoftcapping)
        finalLogitSoftcapping = try c.decodeIfPresent(Double.self, forKey: .finalLogitSoftcapping)
        slidingWindow = try c.decodeIfPresent(Int.self, forKey: .slidingWindow)
        layerTypes = try c.decodeIfPresent([LayerType].self, forKey: .layerTypes) ?? []
        bosTokenId = try c.decodeIfPresent(Int.self, forKey: .bosTokenId)
        if let single = try? c.decodeIfPresent(Int.self, forKey: .eosTokenId) {
            eosTokenIds = [single]
        } else {
            eosTokenIds = try c.decodeIfPresent([Int].self, forKey: .eosTokenId) ?? []
        }
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

    /// The factor on attention scores: `query_pre_attn_scalar ** -0.5`, else `head_dim ** -0.5`.
    public var attentionScaling: Double { 1 / (queryPreAttnScalar ?? Double(headDim)).squareRoot() }

    /// The parameter count's terms: the embedding (and an untied head), the layers.
    var parameterCountParts: [(field: String, parameters: Double)] {
        let h = Double(hiddenSize), d = Double(headDim), inner = Double(intermediateSize)
        let q = Double(numAttentionHeads) * d, kv = Double(numKeyValueHeads) * d
        let norms = Double(layerNormsPerLayer)
        let perLayer = 2 * h * q + 2 * h * kv + 3 * h * inner + norms * h
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
