// Port of transformers' models/gpt_neox/modeling_gpt_neox.py (GPTNeoXForCausalLM: Pythia, GPT-NeoX),
// with the same module names, so checkpoint keys and nnsight paths (`gpt_neox.layers.0.attention`)
// carry over. The whole family in one file plus its line in ModelRegistry.families.
import Foundation
import NNsightNN
import NNsightTorch

/// GPT-NeoX's `config.json`. Port of transformers' `GPTNeoXConfig` (the fields the model uses);
/// reads transformers 5's `rope_parameters` and the hub's older `rotary_pct` / `rotary_emb_base`.
public struct GPTNeoXConfig: ModelConfig, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    public var hiddenAct: String
    public var maxPositionEmbeddings: Int
    public var layerNormEps: Double
    /// Attention and MLP read the same input and their outputs are added together (Pythia).
    public var useParallelResidual: Bool
    /// Biases on `query_key_value` and `dense`.
    public var attentionBias: Bool
    public var ropeTheta: Double
    /// The share of each head's features that is rotated.
    public var partialRotaryFactor: Double
    public var hiddenDropout: Double
    public var tieWordEmbeddings: Bool
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]
    public var padTokenId: Int?

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size", hiddenAct = "hidden_act"
        case maxPositionEmbeddings = "max_position_embeddings", layerNormEps = "layer_norm_eps"
        case useParallelResidual = "use_parallel_residual", attentionBias = "attention_bias"
        case ropeParameters = "rope_parameters", rotaryPct = "rotary_pct", rotaryEmbBase = "rotary_emb_base"
        case hiddenDropout = "hidden_dropout", tieWordEmbeddings = "tie_word_embeddings"
        case bosTokenId = "bos_token_id", eosTokenId = "eos_token_id", padTokenId = "pad_token_id"
    }

    /// transformers 5's `rope_parameters`.
    struct RopeParameters: Codable, Equatable {
        var ropeType: String?
        var ropeTheta: Double?
        var partialRotaryFactor: Double?

        enum CodingKeys: String, CodingKey {
            case ropeType = "rope_type", ropeTheta = "rope_theta", partialRotaryFactor = "partial_rotary_factor"
        }
    }

    public init(vocabSize: Int, hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int, intermediateSize: Int,
                hiddenAct: String = "gelu", maxPositionEmbeddings: Int = 2048, layerNormEps: Double = 1e-5,
                useParallelResidual: Bool = true, attentionBias: Bool = true, ropeTheta: Double = 10000,
                partialRotaryFactor: Double = 0.25, tieWordEmbeddings: Bool = false, bosTokenId: Int? = 0,
                eosTokenIds: [Int] = [2], padTokenId: Int? = nil) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.intermediateSize = intermediateSize
        self.hiddenAct = hiddenAct
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.layerNormEps = layerNormEps
        self.useParallelResidual = useParallelResidual
        self.attentionBias = attentionBias
        self.ropeTheta = ropeTheta
        self.partialRotaryFactor = partialRotaryFactor
        hiddenDropout = 0
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
        numAttentionHeads = try c.required(.numAttentionHeads)
        intermediateSize = try c.required(.intermediateSize)
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "gelu"
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 2048
        layerNormEps = try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? 1e-5
        useParallelResidual = try c.decodeIfPresent(Bool.self, forKey: .useParallelResidual) ?? true
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? true
        let rope = try c.decodeIfPresent(RopeParameters.self, forKey: .ropeParameters)
        if let type = rope?.ropeType, type != "default" {
            throw ModelError.invalidConfig(field: "rope_parameters.rope_type", reason: "unsupported value \"\(type)\"")
        }
        ropeTheta = try rope?.ropeTheta ?? c.decodeIfPresent(Double.self, forKey: .rotaryEmbBase) ?? 10000
        partialRotaryFactor = try rope?.partialRotaryFactor ?? c.decodeIfPresent(Double.self, forKey: .rotaryPct) ?? 0.25
        hiddenDropout = try c.decodeIfPresent(Double.self, forKey: .hiddenDropout) ?? 0
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
        bosTokenId = try c.decodeIfPresent(Int.self, forKey: .bosTokenId)
        eosTokenIds = try c.tokenIds(.eosTokenId)
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(hiddenAct, forKey: .hiddenAct)
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        try c.encode(layerNormEps, forKey: .layerNormEps)
        try c.encode(useParallelResidual, forKey: .useParallelResidual)
        try c.encode(attentionBias, forKey: .attentionBias)
        try c.encode(RopeParameters(ropeType: "default", ropeTheta: ropeTheta, partialRotaryFactor: partialRotaryFactor),
                     forKey: .ropeParameters)
        try c.encode(hiddenDropout, forKey: .hiddenDropout)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encodeIfPresent(bosTokenId, forKey: .bosTokenId)
        try c.encode(eosTokenIds, forKey: .eosTokenId)
        try c.encodeIfPresent(padTokenId, forKey: .padTokenId)
    }

    /// The size of each head.
    public var headSize: Int { hiddenSize / max(numAttentionHeads, 1) }
    /// How many of each head's features are rotated (Python: `rotary_ndims`).
    public var rotaryDimensions: Int { Int(Double(headSize) * partialRotaryFactor) }

    /// Checks every field before anything is built (see ``ModelConfig/validate()``).
    public func validate() throws {
        try ConfigCheck.size(vocabSize, "vocab_size", limit: ConfigLimits.maxVocabulary)
        try ConfigCheck.size(hiddenSize, "hidden_size", limit: ConfigLimits.maxWidth)
        try ConfigCheck.size(numHiddenLayers, "num_hidden_layers", limit: ConfigLimits.maxLayers)
        try ConfigCheck.size(numAttentionHeads, "num_attention_heads", limit: ConfigLimits.maxHeads)
        try ConfigCheck.size(intermediateSize, "intermediate_size", limit: ConfigLimits.maxWidth)
        try ConfigCheck.size(maxPositionEmbeddings, "max_position_embeddings", limit: ConfigLimits.maxPositions)
        try ConfigCheck.divisible(hiddenSize, "hidden_size", by: numAttentionHeads, "num_attention_heads", what: "the head size")
        guard partialRotaryFactor > 0, partialRotaryFactor <= 1, rotaryDimensions >= 2, rotaryDimensions % 2 == 0 else {
            throw ModelError.invalidConfig(
                field: "rope_parameters.partial_rotary_factor",
                reason: "\(partialRotaryFactor) of head size \(headSize) must rotate an even number of features, at least 2")
        }
        try ConfigCheck.positive(layerNormEps, "layer_norm_eps")
        try ConfigCheck.positive(ropeTheta, "rope_parameters.rope_theta")
        try ConfigCheck.probability(hiddenDropout, "hidden_dropout")
        guard ["gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "silu"].contains(hiddenAct) else {
            throw ModelError.invalidConfig(field: "hidden_act", reason: "unsupported value \"\(hiddenAct)\"")
        }
        try ConfigCheck.parameterCount(parameterCountParts)
    }

    /// The parameter count's terms: the embedding (and an untied head), the layers.
    var parameterCountParts: [(field: String, parameters: Double)] {
        let h = Double(hiddenSize), inner = Double(intermediateSize), bias = attentionBias ? 1.0 : 0
        let perLayer = 4 * h * h + bias * 4 * h + 2 * h * inner + inner + h + 4 * h
        return [("vocab_size", Double(vocabSize) * h * (tieWordEmbeddings ? 1 : 2)),
                ("num_hidden_layers", Double(numHiddenLayers) * perLayer + 2 * h)]
    }

    public var parameterCountEstimate: Double { parameterCountParts.reduce(0) { $0 + $1.parameters } }
    public var sizeField: String { "num_hidden_layers" }
}

/// Python: `GELUActivation` (transformers' exact GELU for `hidden_act: "gelu"`).
public final class GELUActivation: Module {
    public override init() {}

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try F.gelu(input, approximate: .none)
    }
}

/// Python: `GPTNeoXAttention`: one `query_key_value` projection laid out per head as
/// `[q | k | v]`, rotary on the first `rotary_ndims` features of q and k.
public final class GPTNeoXAttention: Module {
    public let query_key_value: Linear
    public let dense: Linear
    let heads: Int
    let layerIndex: Int

    init(_ config: GPTNeoXConfig, layerIndex: Int, device: Device) throws {
        query_key_value = try Linear(config.hiddenSize, 3 * config.hiddenSize, bias: config.attentionBias, device: device)
        dense = try Linear(config.hiddenSize, config.hiddenSize, bias: config.attentionBias, device: device)
        heads = config.numAttentionHeads
        self.layerIndex = layerIndex
    }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let state = try context.decoderState(for: typeName)
        guard let tables = state.rotaryTables else {
            throw ModelError.invalidInput("\(typeName) needs the rotary tables its model derives (call it through the model)")
        }
        let shape = input.shape
        // [batch, sequence, heads, 3 × headSize] → [batch, heads, sequence, 3 × headSize] → q, k, v.
        let qkv = try self.query_key_value(input).view([shape[0], shape[1], heads, -1]).transpose(1, 2).chunk(3, dim: -1)
        let query = try applyRotary(qkv[0], tables)
        var key = try applyRotary(qkv[1], tables)
        var value = qkv[2]
        if let cache = context.cache {
            (key, value) = try cache.update(layer: layerIndex, keys: key, values: value)
        }
        let mask = state.attentionMask
        let attended: Tensor
        if self.sourceHooked(explicitAttentionOperations) {
            let scores = try attentionScores(query, key)
            let pattern = try attentionPattern(scores, mask: mask)
            let weighted = try weightedValues(pattern, value)
            attended = weighted
        } else {
            attended = try fusedAttention(query, key, value, mask: mask)
        }
        return try self.dense(mergeHeads(attended))
    }
}

/// Python: `GPTNeoXMLP`: `dense_4h_to_h(act(dense_h_to_4h(x)))`.
public final class GPTNeoXMLP: Module {
    public let dense_h_to_4h: Linear
    public let dense_4h_to_h: Linear
    public let act: Module

    init(_ config: GPTNeoXConfig, device: Device) throws {
        dense_h_to_4h = try Linear(config.hiddenSize, config.intermediateSize, device: device)
        dense_4h_to_h = try Linear(config.intermediateSize, config.hiddenSize, device: device)
        act = config.hiddenAct == "gelu" ? GELUActivation() : activation(config.hiddenAct)
    }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try self.dense_4h_to_h(self.act(self.dense_h_to_4h(input)))
    }
}

/// Python: `GPTNeoXLayer`: with `use_parallel_residual`, `x + attention(ln1(x)) + mlp(ln2(x))`;
/// else the two in sequence.
public final class GPTNeoXLayer: Module {
    public let input_layernorm: LayerNorm
    public let post_attention_layernorm: LayerNorm
    public let post_attention_dropout: Dropout
    public let post_mlp_dropout: Dropout
    public let attention: GPTNeoXAttention
    public let mlp: GPTNeoXMLP
    let parallel: Bool

    init(_ config: GPTNeoXConfig, layerIndex: Int, device: Device) throws {
        input_layernorm = try LayerNorm([config.hiddenSize], eps: config.layerNormEps, device: device)
        post_attention_layernorm = try LayerNorm([config.hiddenSize], eps: config.layerNormEps, device: device)
        post_attention_dropout = Dropout(config.hiddenDropout)
        post_mlp_dropout = Dropout(config.hiddenDropout)
        attention = try GPTNeoXAttention(config, layerIndex: layerIndex, device: device)
        mlp = try GPTNeoXMLP(config, device: device)
        parallel = config.useParallelResidual
    }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let attended = try self.post_attention_dropout(self.attention(self.input_layernorm(input), context))
        if parallel {
            let mlpOutput = try self.post_mlp_dropout(self.mlp(self.post_attention_layernorm(input), context))
            return try mlpOutput + attended + input
        }
        let hidden = try attended + input
        return try self.post_mlp_dropout(self.mlp(self.post_attention_layernorm(hidden), context)) + hidden
    }
}

/// Python: `GPTNeoXModel`: token ids in, final hidden states out.
public final class GPTNeoXModel: Module, DecoderStack {
    public let embed_in: Embedding
    public let emb_dropout: Dropout
    public let layers: ModuleList<GPTNeoXLayer>
    public let final_layer_norm: LayerNorm
    public let rotary_emb: RotaryEmbedding
    public let maxPositions: Int

    init(_ config: GPTNeoXConfig, device: Device) throws {
        embed_in = try Embedding(config.vocabSize, config.hiddenSize, device: device)
        emb_dropout = Dropout(config.hiddenDropout)
        layers = ModuleList(try (0..<config.numHiddenLayers).map { try GPTNeoXLayer(config, layerIndex: $0, device: device) })
        final_layer_norm = try LayerNorm([config.hiddenSize], eps: config.layerNormEps, device: device)
        rotary_emb = try RotaryEmbedding(dimension: config.rotaryDimensions, theta: config.ropeTheta, classPrefix: "GPTNeoX",
                                         device: device)
        maxPositions = config.maxPositionEmbeddings
    }

    public var decoderLayers: [Module] { layers.map { $0 } }
    public var finalNorm: Module? { final_layer_norm }
    public var tokenEmbedding: Embedding { embed_in }

    public func rotaryTables(_ positionIds: Tensor, dtype: DType, _ context: ForwardContext) throws -> LayerRotaryTables {
        .shared(try rotary_emb.tables(positionIds, dtype: dtype, context: context))
    }

    public func embed(_ input: Tensor, positionIds: Tensor, _ context: ForwardContext) throws -> Tensor {
        try emb_dropout(embed_in(input, context), context)
    }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try decoderStackForward(input, context)
    }
}

/// Python: `GPTNeoXForCausalLM`. transformers 5 names the head `lm_head` (checkpoints store it as
/// `embed_out`).
public typealias GPTNeoXForCausalLM = DecoderForCausalLM<GPTNeoXModel, GPTNeoXConfig>

extension DecoderForCausalLM where Base == GPTNeoXModel, Config == GPTNeoXConfig {
    public convenience init(_ config: GPTNeoXConfig, device: Device = .cpu) throws {
        try self.init(config, className: "GPTNeoXForCausalLM", baseModelName: "gpt_neox", device: device) {
            try GPTNeoXModel(config, device: device)
        }
    }

    public var gpt_neox: GPTNeoXModel { baseModel }
}

/// GPT-NeoX in the registry (`model_type` `gpt_neox`): Pythia and GPT-NeoX safetensors checkpoints.
public enum GPTNeoXFamily: ModelFamily {
    public static let modelType = "gpt_neox"

    public static func makeModel(_ config: GPTNeoXConfig, device: Device) throws -> any CausalLanguageModel {
        try GPTNeoXForCausalLM(config, device: device)
    }

    /// Checkpoints store the head as `embed_out` (its name before transformers 5).
    public static func modelKey(forCheckpointKey key: String, config: GPTNeoXConfig) -> String? {
        if key.hasSuffix("rotary_emb.inv_freq") || key.hasSuffix(".attention.bias") || key.hasSuffix(".attention.masked_bias") {
            return nil
        }
        let name = key == "embed_out.weight" ? "lm_head.weight" : key
        return config.tieWordEmbeddings && name == "lm_head.weight" ? nil : name
    }

    public static let standardNames = StandardNames(
        layers: "gpt_neox.layers", selfAttention: "attention", mlp: "mlp", finalNorm: "gpt_neox.final_layer_norm",
        embedTokens: "gpt_neox.embed_in")
}
