import Foundation

/// GPT-2's `config.json`. Port of transformers' `GPT2Config` (the fields the model uses).
public struct GPT2Config: ModelConfig, Equatable {
    public var vocabSize: Int
    public var nPositions: Int
    public var nEmbd: Int
    public var nLayer: Int
    public var nHead: Int
    /// The MLP width; nil means 4 × `nEmbd`.
    public var nInner: Int?
    public var layerNormEpsilon: Double
    public var activationFunction: String
    public var tieWordEmbeddings: Bool
    public var scaleAttnWeights: Bool
    public var bosTokenId: Int?
    public var eosTokenId: Int?
    /// Dropout probabilities (used in training mode only; printed).
    public var embdPdrop: Double
    public var attnPdrop: Double
    public var residPdrop: Double

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", nPositions = "n_positions", nEmbd = "n_embd", nLayer = "n_layer"
        case nHead = "n_head", nInner = "n_inner", layerNormEpsilon = "layer_norm_epsilon"
        case activationFunction = "activation_function", tieWordEmbeddings = "tie_word_embeddings"
        case scaleAttnWeights = "scale_attn_weights", bosTokenId = "bos_token_id", eosTokenId = "eos_token_id"
        case embdPdrop = "embd_pdrop", attnPdrop = "attn_pdrop", residPdrop = "resid_pdrop"
    }

    public init(vocabSize: Int = 50257, nPositions: Int = 1024, nEmbd: Int = 768, nLayer: Int = 12, nHead: Int = 12,
                nInner: Int? = nil, layerNormEpsilon: Double = 1e-5, activationFunction: String = "gelu_new",
                tieWordEmbeddings: Bool = true, scaleAttnWeights: Bool = true, bosTokenId: Int? = 50256,
                eosTokenId: Int? = 50256, embdPdrop: Double = 0.1, attnPdrop: Double = 0.1, residPdrop: Double = 0.1) {
        self.vocabSize = vocabSize
        self.nPositions = nPositions
        self.nEmbd = nEmbd
        self.nLayer = nLayer
        self.nHead = nHead
        self.nInner = nInner
        self.layerNormEpsilon = layerNormEpsilon
        self.activationFunction = activationFunction
        self.tieWordEmbeddings = tieWordEmbeddings
        self.scaleAttnWeights = scaleAttnWeights
        self.bosTokenId = bosTokenId
        self.eosTokenId = eosTokenId
        self.embdPdrop = embdPdrop
        self.attnPdrop = attnPdrop
        self.residPdrop = residPdrop
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = GPT2Config()
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? defaults.vocabSize
        nPositions = try c.decodeIfPresent(Int.self, forKey: .nPositions) ?? defaults.nPositions
        nEmbd = try c.decodeIfPresent(Int.self, forKey: .nEmbd) ?? defaults.nEmbd
        nLayer = try c.decodeIfPresent(Int.self, forKey: .nLayer) ?? defaults.nLayer
        nHead = try c.decodeIfPresent(Int.self, forKey: .nHead) ?? defaults.nHead
        nInner = try c.decodeIfPresent(Int.self, forKey: .nInner)
        layerNormEpsilon = try c.decodeIfPresent(Double.self, forKey: .layerNormEpsilon) ?? defaults.layerNormEpsilon
        activationFunction = try c.decodeIfPresent(String.self, forKey: .activationFunction) ?? defaults.activationFunction
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? true
        scaleAttnWeights = try c.decodeIfPresent(Bool.self, forKey: .scaleAttnWeights) ?? true
        bosTokenId = try c.decodeIfPresent(Int.self, forKey: .bosTokenId)
        eosTokenId = try c.decodeIfPresent(Int.self, forKey: .eosTokenId)
        embdPdrop = try c.decodeIfPresent(Double.self, forKey: .embdPdrop) ?? defaults.embdPdrop
        attnPdrop = try c.decodeIfPresent(Double.self, forKey: .attnPdrop) ?? defaults.attnPdrop
        residPdrop = try c.decodeIfPresent(Double.self, forKey: .residPdrop) ?? defaults.residPdrop
    }

    public var eosTokenIds: [Int] { eosTokenId.map { [$0] } ?? [] }

    /// The parameter count's terms: embeddings (and an untied head), position embeddings, layers.
    var parameterCountParts: [(field: String, parameters: Double)] {
        let e = Double(nEmbd), inner = Double(nInner ?? 4 * nEmbd)
        let perLayer = 4 * e * e + 4 * e + 2 * e * inner + inner + e + 4 * e
        return [("vocab_size", Double(vocabSize) * e * (tieWordEmbeddings ? 1 : 2)),
                ("n_positions", Double(nPositions) * e),
                ("n_layer", Double(nLayer) * perLayer + 2 * e)]
    }

    public var parameterCountEstimate: Double { parameterCountParts.reduce(0) { $0 + $1.parameters } }
    public var sizeField: String { "n_layer" }
    /// GPT-2 configs name no padding token.
    public var padTokenId: Int? { nil }

    /// Checks every field before anything is built: positive sizes within ``ConfigLimits``, a
    /// whole head size, known options, and a parameter count
    /// no real model exceeds. Throws ``ModelError/invalidConfig(field:reason:)`` naming the field.
    public func validate() throws {
        try ConfigCheck.size(vocabSize, "vocab_size", limit: ConfigLimits.maxVocabulary)
        try ConfigCheck.size(nPositions, "n_positions", limit: ConfigLimits.maxPositions)
        try ConfigCheck.size(nEmbd, "n_embd", limit: ConfigLimits.maxWidth)
        try ConfigCheck.size(nLayer, "n_layer", limit: ConfigLimits.maxLayers)
        try ConfigCheck.size(nHead, "n_head", limit: ConfigLimits.maxHeads)
        if let nInner { try ConfigCheck.size(nInner, "n_inner", limit: ConfigLimits.maxWidth) }
        try ConfigCheck.divisible(nEmbd, "n_embd", by: nHead, "n_head", what: "the head size")
        try ConfigCheck.positive(layerNormEpsilon, "layer_norm_epsilon")
        try ConfigCheck.probability(embdPdrop, "embd_pdrop")
        try ConfigCheck.probability(attnPdrop, "attn_pdrop")
        try ConfigCheck.probability(residPdrop, "resid_pdrop")
        try ConfigCheck.parameterCount(parameterCountParts)
        guard ["gelu_new", "gelu", "gelu_pytorch_tanh", "relu", "silu"].contains(activationFunction) else {
            throw ModelError.invalidConfig(field: "activation_function", reason: "unsupported value \"\(activationFunction)\"")
        }
        guard scaleAttnWeights else {
            throw ModelError.invalidConfig(field: "scale_attn_weights", reason: "false is not supported")
        }
    }
}
