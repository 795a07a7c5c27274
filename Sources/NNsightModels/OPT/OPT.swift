// Port of transformers' models/opt/modeling_opt.py (OPTForCausalLM: Meta's OPT-125m … 66b), with
// the same module names, so checkpoint keys and nnsight paths (`model.decoder.layers.0.self_attn`)
// carry over. The whole family in one file plus its line in ModelRegistry.families.
import Foundation
import NNsightNN
import NNsightTorch

/// OPT's `config.json`. Port of transformers' `OPTConfig` (the fields the model uses).
public struct OPTConfig: ModelConfig, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var ffnDim: Int
    public var numAttentionHeads: Int
    public var maxPositionEmbeddings: Int
    /// Pre-norm layers (every OPT but 350m) and a final norm; false: post-norm, no final norm.
    public var doLayerNormBefore: Bool
    /// Python: `_remove_final_layer_norm` (a pre-norm model without the final norm).
    public var removeFinalLayerNorm: Bool
    /// The token embedding's width; `project_in` / `project_out` map it to and from
    /// `hidden_size` where the two differ (OPT-350m: 512 and 1024).
    public var wordEmbedProjDim: Int
    public var dropout: Double
    public var attentionDropout: Double
    public var activationFunction: String
    /// Biases on the attention projections and `fc1` / `fc2`.
    public var enableBias: Bool
    public var layerNormElementwiseAffine: Bool
    public var tieWordEmbeddings: Bool
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]
    public var padTokenId: Int?

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case ffnDim = "ffn_dim", numAttentionHeads = "num_attention_heads", maxPositionEmbeddings = "max_position_embeddings"
        case doLayerNormBefore = "do_layer_norm_before", removeFinalLayerNorm = "_remove_final_layer_norm"
        case wordEmbedProjDim = "word_embed_proj_dim", dropout, attentionDropout = "attention_dropout"
        case activationFunction = "activation_function", enableBias = "enable_bias"
        case layerNormElementwiseAffine = "layer_norm_elementwise_affine", tieWordEmbeddings = "tie_word_embeddings"
        case bosTokenId = "bos_token_id", eosTokenId = "eos_token_id", padTokenId = "pad_token_id"
    }

    public init(vocabSize: Int, hiddenSize: Int, numHiddenLayers: Int, ffnDim: Int, numAttentionHeads: Int,
                maxPositionEmbeddings: Int = 2048, doLayerNormBefore: Bool = true, wordEmbedProjDim: Int? = nil,
                activationFunction: String = "relu", enableBias: Bool = true, tieWordEmbeddings: Bool = true,
                bosTokenId: Int? = 2, eosTokenIds: [Int] = [2], padTokenId: Int? = 1) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.numHiddenLayers = numHiddenLayers
        self.ffnDim = ffnDim
        self.numAttentionHeads = numAttentionHeads
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.doLayerNormBefore = doLayerNormBefore
        removeFinalLayerNorm = false
        self.wordEmbedProjDim = wordEmbedProjDim ?? hiddenSize
        dropout = 0
        attentionDropout = 0
        self.activationFunction = activationFunction
        self.enableBias = enableBias
        layerNormElementwiseAffine = true
        self.tieWordEmbeddings = tieWordEmbeddings
        self.bosTokenId = bosTokenId
        self.eosTokenIds = eosTokenIds
        self.padTokenId = padTokenId
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.required(.vocabSize)
        hiddenSize = try c.required(.hiddenSize)
        numHiddenLayers = try c.required(.numHiddenLayers)
        ffnDim = try c.required(.ffnDim)
        numAttentionHeads = try c.required(.numAttentionHeads)
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 2048
        doLayerNormBefore = try c.decodeIfPresent(Bool.self, forKey: .doLayerNormBefore) ?? true
        removeFinalLayerNorm = try c.decodeIfPresent(Bool.self, forKey: .removeFinalLayerNorm) ?? false
        wordEmbedProjDim = try c.decodeIfPresent(Int.self, forKey: .wordEmbedProjDim) ?? hiddenSize
        dropout = try c.decodeIfPresent(Double.self, forKey: .dropout) ?? 0.1
        attentionDropout = try c.decodeIfPresent(Double.self, forKey: .attentionDropout) ?? 0
        activationFunction = try c.decodeIfPresent(String.self, forKey: .activationFunction) ?? "relu"
        enableBias = try c.decodeIfPresent(Bool.self, forKey: .enableBias) ?? true
        layerNormElementwiseAffine = try c.decodeIfPresent(Bool.self, forKey: .layerNormElementwiseAffine) ?? true
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? true
        bosTokenId = try c.decodeIfPresent(Int.self, forKey: .bosTokenId)
        eosTokenIds = try c.tokenIds(.eosTokenId)
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try c.encode(ffnDim, forKey: .ffnDim)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        try c.encode(doLayerNormBefore, forKey: .doLayerNormBefore)
        try c.encode(removeFinalLayerNorm, forKey: .removeFinalLayerNorm)
        try c.encode(wordEmbedProjDim, forKey: .wordEmbedProjDim)
        try c.encode(dropout, forKey: .dropout)
        try c.encode(attentionDropout, forKey: .attentionDropout)
        try c.encode(activationFunction, forKey: .activationFunction)
        try c.encode(enableBias, forKey: .enableBias)
        try c.encode(layerNormElementwiseAffine, forKey: .layerNormElementwiseAffine)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encodeIfPresent(bosTokenId, forKey: .bosTokenId)
        try c.encode(eosTokenIds, forKey: .eosTokenId)
        try c.encodeIfPresent(padTokenId, forKey: .padTokenId)
    }

    /// The size of each head.
    public var headSize: Int { hiddenSize / max(numAttentionHeads, 1) }
    /// Whether the token embedding is narrower or wider than the layers (`project_in`/`project_out`).
    public var projects: Bool { wordEmbedProjDim != hiddenSize }
    /// Whether the decoder ends with `final_layer_norm`.
    public var hasFinalLayerNorm: Bool { doLayerNormBefore && !removeFinalLayerNorm }

    /// Checks every field before anything is built (see ``ModelConfig/validate()``).
    public func validate() throws {
        try ConfigCheck.size(vocabSize, "vocab_size", limit: ConfigLimits.maxVocabulary)
        try ConfigCheck.size(hiddenSize, "hidden_size", limit: ConfigLimits.maxWidth)
        try ConfigCheck.size(numHiddenLayers, "num_hidden_layers", limit: ConfigLimits.maxLayers)
        try ConfigCheck.size(ffnDim, "ffn_dim", limit: ConfigLimits.maxWidth)
        try ConfigCheck.size(numAttentionHeads, "num_attention_heads", limit: ConfigLimits.maxHeads)
        try ConfigCheck.size(maxPositionEmbeddings, "max_position_embeddings", limit: ConfigLimits.maxPositions)
        try ConfigCheck.size(wordEmbedProjDim, "word_embed_proj_dim", limit: ConfigLimits.maxWidth)
        try ConfigCheck.divisible(hiddenSize, "hidden_size", by: numAttentionHeads, "num_attention_heads", what: "the head size")
        try ConfigCheck.probability(dropout, "dropout")
        try ConfigCheck.probability(attentionDropout, "attention_dropout")
        try ConfigCheck.token(padTokenId, "pad_token_id", vocabulary: vocabSize)
        guard layerNormElementwiseAffine else {
            throw ModelError.invalidConfig(field: "layer_norm_elementwise_affine", reason: "false is not supported")
        }
        guard ["relu", "gelu", "gelu_new", "silu"].contains(activationFunction) else {
            throw ModelError.invalidConfig(field: "activation_function", reason: "unsupported value \"\(activationFunction)\"")
        }
        try ConfigCheck.parameterCount(parameterCountParts)
    }

    /// The parameter count's terms: the embeddings (and an untied head), the layers.
    var parameterCountParts: [(field: String, parameters: Double)] {
        let h = Double(hiddenSize), ffn = Double(ffnDim), word = Double(wordEmbedProjDim), bias = enableBias ? 1.0 : 0
        let perLayer = 4 * h * h + 2 * h * ffn + bias * (4 * h + ffn + h) + 4 * h
        let embeddings = Double(vocabSize) * word * (tieWordEmbeddings ? 1 : 2) + Double(maxPositionEmbeddings + 2) * h
        return [("vocab_size", embeddings + (projects ? 2 * h * word : 0)),
                ("num_hidden_layers", Double(numHiddenLayers) * perLayer + (hasFinalLayerNorm ? 2 * h : 0))]
    }

    public var parameterCountEstimate: Double { parameterCountParts.reduce(0) { $0 + $1.parameters } }
    public var sizeField: String { "num_hidden_layers" }
}

/// Python: `OPTLearnedPositionalEmbedding`: a table of `max_position_embeddings + 2` rows read at
/// `position + 2` (OPT's offset; a padded position is -1, so it reads row 1). Its input here is
/// the position ids, which its decoder derives from the attention mask (Python passes the mask
/// and derives them inside).
public final class OPTLearnedPositionalEmbedding: Embedding {
    /// Python: `offset`.
    public static let offset = 2

    init(_ positions: Int, _ dimension: Int, device: Device) throws {
        try super.init(positions + Self.offset, dimension, device: device)
    }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try super.forward(input + Self.offset, context)
    }
}

/// OPT's position ids for the new tokens: each real token's count of real tokens before it, and
/// -1 at padded positions. Python: `(cumsum(attention_mask, 1) * attention_mask - 1)[:, past:]`.
func optPositionIds(queries: Int, past: Int, batch: Int, attentionMask: Tensor?, device: Device) throws -> Tensor {
    let mask = try attentionMask?.to(.int64) ?? Tensor.ones([batch, past + queries], dtype: .int64, device: device)
    let positions = try mask.cumsum(dim: 1) * mask - 1
    return try positions.narrow(dim: 1, start: past, length: queries)
}

/// Python: `OPTAttention`: q/k/v/out projections (biases with `enable_bias`), the query scaled by
/// `head_dim ** -0.5` before the scores (so the scores themselves are not scaled again).
public final class OPTAttention: Module {
    public let k_proj: Linear
    public let v_proj: Linear
    public let q_proj: Linear
    public let out_proj: Linear
    let heads: Int
    let scaling: Double
    let layerIndex: Int

    init(_ config: OPTConfig, layerIndex: Int, device: Device) throws {
        let width = config.hiddenSize
        k_proj = try Linear(width, width, bias: config.enableBias, device: device)
        v_proj = try Linear(width, width, bias: config.enableBias, device: device)
        q_proj = try Linear(width, width, bias: config.enableBias, device: device)
        out_proj = try Linear(width, width, bias: config.enableBias, device: device)
        heads = config.numAttentionHeads
        scaling = 1 / Double(config.headSize).squareRoot()
        self.layerIndex = layerIndex
    }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let state = try context.decoderState(for: typeName)
        let query = try splitHeads(self.q_proj(input) * scaling, heads: heads)
        var key = try splitHeads(self.k_proj(input), heads: heads)
        var value = try splitHeads(self.v_proj(input), heads: heads)
        if let cache = context.cache {
            (key, value) = try cache.update(layer: layerIndex, keys: key, values: value)
        }
        let mask = state.attentionMask
        let attended: Tensor
        if self.sourceHooked(explicitAttentionOperations) {
            let scores = try scaledAttentionScores(query, key, scaling: 1)
            let pattern = try attentionPattern(scores, mask: mask)
            let weighted = try weightedValues(pattern, value)
            attended = weighted
        } else {
            attended = try F.scaledDotProductAttention(query, key, value, mask: mask, scale: 1)
        }
        return try self.out_proj(mergeHeads(attended))
    }
}

/// Python: `OPTDecoderLayer`. Pre-norm (`do_layer_norm_before`): `x + attn(ln(x))`, then
/// `x + fc2(act(fc1(ln(x))))`; post-norm: each sum normalised after it. The MLP has no module
/// of its own: `fc2`'s output is what the layer adds (the standard names' `mlp`). Python flattens
/// `[batch, sequence]` into one dimension around `fc1`/`fc2`; here they see `[batch, sequence, …]`
/// (the same values), so that `fc2` answers to nnterp's `[batch, sequence, hidden]` check.
public final class OPTDecoderLayer: Module {
    public let self_attn: OPTAttention
    public let activation_fn: Module
    public let self_attn_layer_norm: LayerNorm
    public let fc1: Linear
    public let fc2: Linear
    public let final_layer_norm: LayerNorm
    let normBefore: Bool
    let dropout: Double

    init(_ config: OPTConfig, layerIndex: Int, device: Device) throws {
        self_attn = try OPTAttention(config, layerIndex: layerIndex, device: device)
        activation_fn = activation(config.activationFunction)
        self_attn_layer_norm = try LayerNorm([config.hiddenSize], device: device)
        fc1 = try Linear(config.hiddenSize, config.ffnDim, bias: config.enableBias, device: device)
        fc2 = try Linear(config.ffnDim, config.hiddenSize, bias: config.enableBias, device: device)
        final_layer_norm = try LayerNorm([config.hiddenSize], device: device)
        normBefore = config.doLayerNormBefore
        dropout = config.dropout
    }

    /// Python: `nn.functional.dropout(x, p=self.dropout, training=self.training)`.
    func drop(_ x: Tensor) throws -> Tensor {
        training && dropout > 0 ? try F.dropout(x, p: dropout, training: true) : x
    }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        if normBefore {
            let attended = try drop(self.self_attn(self.self_attn_layer_norm(input), context)) + input
            let fed = try self.fc2(self.activation_fn(self.fc1(self.final_layer_norm(attended))))
            return try drop(fed) + attended
        }
        let attended = try self.self_attn_layer_norm(drop(self.self_attn(input, context)) + input)
        let fed = try self.fc2(self.activation_fn(self.fc1(attended)))
        return try self.final_layer_norm(drop(fed) + attended)
    }
}

/// Python: `OPTDecoder`: token ids in, final hidden states out (in `word_embed_proj_dim` when
/// projected).
public final class OPTDecoder: Module, DecoderStack {
    public let embed_tokens: Embedding
    public let embed_positions: OPTLearnedPositionalEmbedding
    public let project_out: Linear?
    public let project_in: Linear?
    public let final_layer_norm: LayerNorm?
    public let layers: ModuleList<OPTDecoderLayer>
    public let maxPositions: Int

    init(_ config: OPTConfig, device: Device) throws {
        embed_tokens = try Embedding(config.vocabSize, config.wordEmbedProjDim, paddingIndex: config.padTokenId, device: device)
        embed_positions = try OPTLearnedPositionalEmbedding(config.maxPositionEmbeddings, config.hiddenSize, device: device)
        project_out = config.projects ? try Linear(config.hiddenSize, config.wordEmbedProjDim, bias: false, device: device) : nil
        project_in = config.projects ? try Linear(config.wordEmbedProjDim, config.hiddenSize, bias: false, device: device) : nil
        final_layer_norm = config.hasFinalLayerNorm ? try LayerNorm([config.hiddenSize], device: device) : nil
        layers = ModuleList(try (0..<config.numHiddenLayers).map { try OPTDecoderLayer(config, layerIndex: $0, device: device) })
        maxPositions = config.maxPositionEmbeddings
    }

    public var decoderLayers: [Module] { layers.map { $0 } }
    public var finalNorm: Module? { final_layer_norm }
    public var tokenEmbedding: Embedding { embed_tokens }

    /// OPT's count: padded positions are -1 (Python: `cumsum(mask) * mask - 1`).
    public func positionIds(_ input: Tensor, _ context: ForwardContext) throws -> Tensor? {
        try optPositionIds(queries: input.size(1), past: context.cache?.length ?? 0, batch: input.size(0),
                           attentionMask: context.attentionMask, device: input.device)
    }

    public func embed(_ input: Tensor, positionIds: Tensor, _ context: ForwardContext) throws -> Tensor {
        var hidden = try embed_tokens(input, context)
        if let project_in { hidden = try project_in(hidden, context) }
        return try hidden + embed_positions(positionIds, context)
    }

    public func finalHidden(_ hidden: Tensor, _ context: ForwardContext) throws -> Tensor {
        let normed = try final_layer_norm.map { try $0(hidden, context) } ?? hidden
        return try project_out.map { try $0(normed, context) } ?? normed
    }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try decoderStackForward(input, context)
    }
}

/// Python: `OPTModel`: the decoder alone (a ``DecoderStack`` one level down, `model.decoder`;
/// what the causal LM asks of its body is the decoder's).
public final class OPTModel: Module, DecoderBody {
    public let decoder: OPTDecoder

    init(_ config: OPTConfig, device: Device) throws {
        decoder = try OPTDecoder(config, device: device)
    }

    public var decoderLayers: [Module] { decoder.decoderLayers }
    public var tokenEmbedding: Embedding { decoder.tokenEmbedding }
    public var maxPositions: Int { decoder.maxPositions }
    public var layerWindows: [Int?] { decoder.layerWindows }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try decoder(input, context)
    }
}

/// Python: `OPTForCausalLM`. `lm_head` (no bias) shares `embed_tokens`' weight when tied (every
/// released OPT).
public typealias OPTForCausalLM = DecoderForCausalLM<OPTModel, OPTConfig>

extension DecoderForCausalLM where Base == OPTModel, Config == OPTConfig {
    public convenience init(_ config: OPTConfig, device: Device = .cpu) throws {
        try self.init(config, className: "OPTForCausalLM", device: device) { try OPTModel(config, device: device) }
    }

    public var model: OPTModel { baseModel }
}

/// OPT in the registry (`model_type` `opt`): safetensors checkpoints.
public enum OPTFamily: ModelFamily {
    public static let modelType = "opt"

    public static func makeModel(_ config: OPTConfig, device: Device) throws -> any CausalLanguageModel {
        try OPTForCausalLM(config, device: device)
    }

    /// Hub checkpoints saved before transformers 4.x's `OPTModel` wrapper name the decoder
    /// `decoder.…` at the root; both are read.
    public static func modelKey(forCheckpointKey key: String, config: OPTConfig) -> String? {
        let name = key.hasPrefix("decoder.") ? "model." + key : key
        return config.tieWordEmbeddings && name == "lm_head.weight" ? nil : name
    }

    /// The common shape (pre-norm, no projections: OPT-125m, 1.3b … 66b).
    public static let standardNames = StandardNames(
        layers: "model.decoder.layers", selfAttention: "self_attn", mlp: "fc2", finalNorm: "model.decoder.final_layer_norm",
        embedTokens: "model.decoder.embed_tokens")

    /// OPT-350m's shape (post-norm, embeddings of another width): the residual stream starts at
    /// `project_in`, and what maps the last layer's output to `lm_head`'s input is `project_out`.
    public static func standardNames(for config: OPTConfig) -> StandardNames {
        var names = standardNames
        if config.projects {
            names.embedTokens = "model.decoder.project_in"
            if !config.hasFinalLayerNorm { names.finalNorm = "model.decoder.project_out" }
        }
        return names
    }
}
