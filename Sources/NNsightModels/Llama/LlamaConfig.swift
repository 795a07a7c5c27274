import Foundation

/// The `config.json` of the Llama family (Llama 1–3, Mistral, Qwen2). Port of transformers'
/// `LlamaConfig`, with Qwen2's q/k/v biases as `attentionBias`.
public struct LlamaConfig: ModelConfig, SlidingWindowLayout, Equatable {
    /// RoPE frequency scaling. Python: `rope_scaling` / `rope_parameters`.
    public struct RopeScaling: Codable, Sendable, Equatable {
        public var ropeType: String
        public var factor: Double?
        public var lowFreqFactor: Double?
        public var highFreqFactor: Double?
        public var originalMaxPositionEmbeddings: Int?

        enum CodingKeys: String, CodingKey {
            case ropeType = "rope_type", type, factor, lowFreqFactor = "low_freq_factor"
            case highFreqFactor = "high_freq_factor", originalMaxPositionEmbeddings = "original_max_position_embeddings"
        }

        public init(ropeType: String, factor: Double? = nil, lowFreqFactor: Double? = nil, highFreqFactor: Double? = nil,
                    originalMaxPositionEmbeddings: Int? = nil) {
            self.ropeType = ropeType
            self.factor = factor
            self.lowFreqFactor = lowFreqFactor
            self.highFreqFactor = highFreqFactor
            self.originalMaxPositionEmbeddings = originalMaxPositionEmbeddings
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            ropeType = try c.decodeIfPresent(String.self, forKey: .ropeType)
                ?? c.decodeIfPresent(String.self, forKey: .type) ?? "default"
            factor = try c.decodeIfPresent(Double.self, forKey: .factor)
            lowFreqFactor = try c.decodeIfPresent(Double.self, forKey: .lowFreqFactor)
            highFreqFactor = try c.decodeIfPresent(Double.self, forKey: .highFreqFactor)
            originalMaxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .originalMaxPositionEmbeddings)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(ropeType, forKey: .ropeType)
            try c.encodeIfPresent(factor, forKey: .factor)
            try c.encodeIfPresent(lowFreqFactor, forKey: .lowFreqFactor)
            try c.encodeIfPresent(highFreqFactor, forKey: .highFreqFactor)
            try c.encodeIfPresent(originalMaxPositionEmbeddings, forKey: .originalMaxPositionEmbeddings)
        }
    }

    /// How a layer attends. Python: `config.layer_types`.
    public enum LayerType: String, Codable, Sendable, Equatable {
        case fullAttention = "full_attention"
        case slidingAttention = "sliding_attention"
    }

    public var modelType: String
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    public var headDim: Int
    /// Whether `head_dim` was given (else it is `hidden_size / num_attention_heads`, which must
    /// then be whole).
    var headDimGiven: Bool
    public var maxPositionEmbeddings: Int
    public var rmsNormEps: Double
    public var ropeTheta: Double
    public var ropeScaling: RopeScaling?
    /// Biases on q/k/v (Qwen2 always; Llama when `attention_bias`).
    public var attentionBias: Bool
    public var mlpBias: Bool
    public var tieWordEmbeddings: Bool
    public var hiddenAct: String
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]
    /// The padding token (the embedding's `padding_idx`).
    public var padTokenId: Int?
    /// How many of the latest tokens a sliding-window layer attends to (Mistral, Qwen2); nil: none.
    public var slidingWindow: Int?
    /// Qwen2: whether `sliding_window` applies at all.
    public var useSlidingWindow: Bool
    /// Qwen2: the first layer that uses the sliding window.
    public var maxWindowLayers: Int?
    /// Each layer's attention (as the family reads the fields above); empty means all full.
    public var layerTypes: [LayerType]
    /// Parameters of query/key norms per layer, for the size estimate (Qwen3, OLMo-2 set it).
    var queryKeyNormParameters: Double = 0

    /// The parameter count's terms: the embedding (and an untied head), the layers.
    var parameterCountParts: [(field: String, parameters: Double)] {
        let h = Double(hiddenSize), d = Double(headDim), inner = Double(intermediateSize)
        let q = Double(numAttentionHeads) * d, kv = Double(numKeyValueHeads) * d
        let attention = h * q + 2 * h * kv + q * h + (attentionBias ? q + 2 * kv : 0)   // o_proj's bias (Llama only), h per layer, left out
        let perLayer = attention + 3 * h * inner + (mlpBias ? 2 * inner + h : 0) + 2 * h + queryKeyNormParameters
        return [("vocab_size", Double(vocabSize) * h * (tieWordEmbeddings ? 1 : 2)),
                ("num_hidden_layers", Double(numHiddenLayers) * perLayer + h)]
    }

    public var parameterCountEstimate: Double { parameterCountParts.reduce(0) { $0 + $1.parameters } }
    public var sizeField: String { "num_hidden_layers" }

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", vocabSize = "vocab_size", hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", numKeyValueHeads = "num_key_value_heads", headDim = "head_dim"
        case maxPositionEmbeddings = "max_position_embeddings", rmsNormEps = "rms_norm_eps", ropeTheta = "rope_theta"
        case ropeScaling = "rope_scaling", ropeParameters = "rope_parameters", attentionBias = "attention_bias"
        case mlpBias = "mlp_bias", tieWordEmbeddings = "tie_word_embeddings", hiddenAct = "hidden_act"
        case bosTokenId = "bos_token_id", eosTokenId = "eos_token_id", padTokenId = "pad_token_id"
        case slidingWindow = "sliding_window", useSlidingWindow = "use_sliding_window"
        case maxWindowLayers = "max_window_layers", layerTypes = "layer_types"
    }

    public init(modelType: String = "llama", vocabSize: Int, hiddenSize: Int, intermediateSize: Int, numHiddenLayers: Int,
                numAttentionHeads: Int, numKeyValueHeads: Int? = nil, headDim: Int? = nil,
                maxPositionEmbeddings: Int = 2048, rmsNormEps: Double = 1e-6, ropeTheta: Double = 10000,
                ropeScaling: RopeScaling? = nil, attentionBias: Bool = false, mlpBias: Bool = false,
                tieWordEmbeddings: Bool = false, hiddenAct: String = "silu", bosTokenId: Int? = nil,
                eosTokenIds: [Int] = [], padTokenId: Int? = nil, slidingWindow: Int? = nil,
                layerTypes: [LayerType]? = nil) {
        self.modelType = modelType
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.numKeyValueHeads = numKeyValueHeads ?? numAttentionHeads
        self.headDim = headDim ?? hiddenSize / max(numAttentionHeads, 1)
        headDimGiven = headDim != nil
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.ropeScaling = ropeScaling
        self.attentionBias = attentionBias
        self.mlpBias = mlpBias
        self.tieWordEmbeddings = tieWordEmbeddings
        self.hiddenAct = hiddenAct
        self.bosTokenId = bosTokenId
        self.eosTokenIds = eosTokenIds
        self.padTokenId = padTokenId
        self.slidingWindow = slidingWindow
        useSlidingWindow = slidingWindow != nil
        maxWindowLayers = nil
        self.layerTypes = layerTypes
            ?? Array(repeating: slidingWindow == nil ? .fullAttention : .slidingAttention, count: max(numHiddenLayers, 0))
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        modelType = try c.decodeIfPresent(String.self, forKey: .modelType) ?? "llama"
        vocabSize = try c.required(.vocabSize)
        hiddenSize = try c.required(.hiddenSize)
        intermediateSize = try c.required(.intermediateSize)
        numHiddenLayers = try c.required(.numHiddenLayers)
        numAttentionHeads = try c.required(.numAttentionHeads)
        numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? numAttentionHeads
        let givenHeadDim = try c.decodeIfPresent(Int.self, forKey: .headDim)
        headDim = givenHeadDim ?? hiddenSize / max(numAttentionHeads, 1)
        headDimGiven = givenHeadDim != nil
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 2048
        rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? 1e-6
        // transformers 5 writes `rope_parameters` (theta and scaling together); earlier versions
        // `rope_theta` and `rope_scaling`.
        let theta = try c.decodeIfPresent(RopeTheta.self, forKey: .ropeParameters)?.ropeTheta
        ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? theta ?? 10000
        let scaling = try c.decodeIfPresent(RopeScaling.self, forKey: .ropeScaling)
            ?? c.decodeIfPresent(RopeScaling.self, forKey: .ropeParameters)
        ropeScaling = scaling?.ropeType == "default" ? nil : scaling
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? false
        mlpBias = try c.decodeIfPresent(Bool.self, forKey: .mlpBias) ?? false
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "silu"
        bosTokenId = try c.decodeIfPresent(Int.self, forKey: .bosTokenId)
        eosTokenIds = try c.tokenIds(.eosTokenId)
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId)
        slidingWindow = try c.decodeIfPresent(Int.self, forKey: .slidingWindow)
        useSlidingWindow = try c.decodeIfPresent(Bool.self, forKey: .useSlidingWindow) ?? (slidingWindow != nil)
        maxWindowLayers = try c.decodeIfPresent(Int.self, forKey: .maxWindowLayers)
        // Absent: empty, for the family to fill (`ModelFamily.decodeConfig`); all full if none does.
        layerTypes = try c.decodeIfPresent([LayerType].self, forKey: .layerTypes) ?? []
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
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        try c.encode(rmsNormEps, forKey: .rmsNormEps)
        try c.encode(ropeTheta, forKey: .ropeTheta)
        try c.encodeIfPresent(ropeScaling, forKey: .ropeScaling)
        try c.encode(attentionBias, forKey: .attentionBias)
        try c.encode(mlpBias, forKey: .mlpBias)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encode(hiddenAct, forKey: .hiddenAct)
        try c.encodeIfPresent(bosTokenId, forKey: .bosTokenId)
        try c.encode(eosTokenIds, forKey: .eosTokenId)
        try c.encodeIfPresent(padTokenId, forKey: .padTokenId)
        try c.encodeIfPresent(slidingWindow, forKey: .slidingWindow)
        try c.encode(useSlidingWindow, forKey: .useSlidingWindow)
        try c.encodeIfPresent(maxWindowLayers, forKey: .maxWindowLayers)
        try c.encode(layerTypes, forKey: .layerTypes)
    }

    /// Checks every field before anything is built: positive sizes within ``ConfigLimits``,
    /// whole and even head sizes, key/value heads that divide the heads, known options, a padding
    /// token inside the vocabulary (the embedding's `padding_idx`), and a parameter count no real model exceeds. Throws
    /// ``ModelError/invalidConfig(field:reason:)`` naming the field.
    public func validate() throws {
        try ConfigCheck.size(vocabSize, "vocab_size", limit: ConfigLimits.maxVocabulary)
        try ConfigCheck.size(hiddenSize, "hidden_size", limit: ConfigLimits.maxWidth)
        try ConfigCheck.size(intermediateSize, "intermediate_size", limit: ConfigLimits.maxWidth)
        try ConfigCheck.size(numHiddenLayers, "num_hidden_layers", limit: ConfigLimits.maxLayers)
        try ConfigCheck.size(numAttentionHeads, "num_attention_heads", limit: ConfigLimits.maxHeads)
        try ConfigCheck.size(numKeyValueHeads, "num_key_value_heads", limit: ConfigLimits.maxHeads)
        try ConfigCheck.size(maxPositionEmbeddings, "max_position_embeddings", limit: ConfigLimits.maxPositions)
        if !headDimGiven {
            try ConfigCheck.divisible(hiddenSize, "hidden_size", by: numAttentionHeads, "num_attention_heads", what: "the head size")
        }
        try ConfigCheck.size(headDim, "head_dim", limit: ConfigLimits.maxWidth)
        guard headDim % 2 == 0 else {
            throw ModelError.invalidConfig(field: "head_dim", reason: "\(headDim) must be even (rotary embeddings rotate pairs)")
        }
        try ConfigCheck.size(numAttentionHeads * headDim, "num_attention_heads", limit: ConfigLimits.maxWidth)
        try ConfigCheck.positive(rmsNormEps, "rms_norm_eps")
        try ConfigCheck.positive(ropeTheta, "rope_theta")
        if let factor = ropeScaling?.factor { try ConfigCheck.positive(factor, "rope_scaling.factor") }
        try ConfigCheck.token(padTokenId, "pad_token_id", vocabulary: vocabSize)
        try ConfigCheck.parameterCount(parameterCountParts)
        guard layerTypes.isEmpty || layerTypes.count == numHiddenLayers else {
            throw ModelError.invalidConfig(field: "layer_types",
                                           reason: "\(layerTypes.count) entries for num_hidden_layers \(numHiddenLayers)")
        }
        if layerTypes.contains(.slidingAttention) {
            guard let window = slidingWindow, window > 0 else {
                throw ModelError.invalidConfig(field: "sliding_window", reason: "sliding-attention layers need a positive window")
            }
        }
        guard numAttentionHeads > 0, numKeyValueHeads > 0, numAttentionHeads % numKeyValueHeads == 0 else {
            throw ModelError.invalidConfig(field: "num_key_value_heads",
                                           reason: "\(numKeyValueHeads) must divide num_attention_heads \(numAttentionHeads)")
        }
        guard hiddenAct == "silu" else {
            throw ModelError.invalidConfig(field: "hidden_act", reason: "unsupported value \"\(hiddenAct)\"")
        }
        if let scaling = ropeScaling {
            guard scaling.ropeType == "llama3" || scaling.ropeType == "linear" else {
                throw ModelError.invalidConfig(field: "rope_scaling.rope_type", reason: "unsupported value \"\(scaling.ropeType)\"")
            }
            guard scaling.factor != nil else {
                throw ModelError.invalidConfig(field: "rope_scaling.factor", reason: "required for \(scaling.ropeType)")
            }
        }
    }
}

/// The theta inside transformers 5's `rope_parameters`.
private struct RopeTheta: Decodable {
    let ropeTheta: Double?

    enum CodingKeys: String, CodingKey { case ropeTheta = "rope_theta" }
}

/// A config made of Llama's fields (``llama``, which it decodes first) and the family's own
/// (Mixtral, Phi-3, Qwen3-MoE): what every model asks of its config comes from ``llama`` unless
/// the family says otherwise (Mixtral's and Qwen3-MoE's parameter estimates count the experts).
public protocol LlamaExtendingConfig: ModelConfig {
    var llama: LlamaConfig { get }
}

extension LlamaExtendingConfig {
    public var eosTokenIds: [Int] { llama.eosTokenIds }
    public var padTokenId: Int? { llama.padTokenId }
    public var tieWordEmbeddings: Bool { llama.tieWordEmbeddings }
    public var parameterCountEstimate: Double { llama.parameterCountEstimate }
    public var sizeField: String { llama.sizeField }
}

extension LlamaConfig {
    /// Mistral's reading of `sliding_window` (Mixtral's, Phi-3's and Qwen3-MoE's too): when set,
    /// every layer attends over the window; else every layer attends fully.
    mutating func slideEveryLayerWhenWindowed() {
        let type: LayerType = slidingWindow == nil ? .fullAttention : .slidingAttention
        layerTypes = Array(repeating: type, count: numHiddenLayers)
    }
}
