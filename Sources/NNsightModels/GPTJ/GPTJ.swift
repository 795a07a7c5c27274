// Port of transformers' models/gptj/modeling_gptj.py (GPTJForCausalLM: GPT-J 6B and its kin), with
// the same module names, so checkpoint keys and nnsight paths (`transformer.h.0.attn.q_proj`) carry
// over. The whole family in one file plus its line in ModelRegistry.families.
import Foundation
import NNsightNN
import NNsightTorch

/// GPT-J's `config.json`. Port of transformers' `GPTJConfig` (the fields the model uses), with
/// GPT-2's field names (`n_embd`, `n_layer`, `n_head`, `n_positions`, `n_inner`).
public struct GPTJConfig: ModelConfig, Equatable {
    public var vocabSize: Int
    public var nPositions: Int
    public var nEmbd: Int
    public var nLayer: Int
    public var nHead: Int
    /// How many of each head's features are rotated, as interleaved pairs (GPT-J 6B: 64 of 256).
    public var rotaryDim: Int
    /// The MLP width; nil: `4 × n_embd`.
    public var nInner: Int?
    public var activationFunction: String
    public var residPdrop: Double
    public var embdPdrop: Double
    public var attnPdrop: Double
    public var layerNormEpsilon: Double
    public var tieWordEmbeddings: Bool
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]
    public var padTokenId: Int?

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", nPositions = "n_positions", nEmbd = "n_embd", nLayer = "n_layer", nHead = "n_head"
        case rotaryDim = "rotary_dim", nInner = "n_inner", activationFunction = "activation_function"
        case residPdrop = "resid_pdrop", embdPdrop = "embd_pdrop", attnPdrop = "attn_pdrop"
        case layerNormEpsilon = "layer_norm_epsilon", tieWordEmbeddings = "tie_word_embeddings"
        case bosTokenId = "bos_token_id", eosTokenId = "eos_token_id", padTokenId = "pad_token_id"
    }

    public init(vocabSize: Int, nPositions: Int = 2048, nEmbd: Int, nLayer: Int, nHead: Int, rotaryDim: Int = 64,
                nInner: Int? = nil, activationFunction: String = "gelu_new", layerNormEpsilon: Double = 1e-5,
                tieWordEmbeddings: Bool = false, bosTokenId: Int? = 50256, eosTokenIds: [Int] = [50256],
                padTokenId: Int? = nil) {
        self.vocabSize = vocabSize
        self.nPositions = nPositions
        self.nEmbd = nEmbd
        self.nLayer = nLayer
        self.nHead = nHead
        self.rotaryDim = rotaryDim
        self.nInner = nInner
        self.activationFunction = activationFunction
        residPdrop = 0
        embdPdrop = 0
        attnPdrop = 0
        self.layerNormEpsilon = layerNormEpsilon
        self.tieWordEmbeddings = tieWordEmbeddings
        self.bosTokenId = bosTokenId
        self.eosTokenIds = eosTokenIds
        self.padTokenId = padTokenId
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.required(.vocabSize)
        nEmbd = try c.required(.nEmbd)
        nLayer = try c.required(.nLayer)
        nHead = try c.required(.nHead)
        nPositions = try c.decodeIfPresent(Int.self, forKey: .nPositions) ?? 2048
        if c.contains(.rotaryDim), try c.decodeNil(forKey: .rotaryDim) {
            // transformers then rotates `n_embd` features of each `n_embd / n_head`-wide head,
            // which only has a meaning for a single head.
            throw ModelError.invalidConfig(field: "rotary_dim", reason: "null is not supported (give the rotated width per head)")
        }
        rotaryDim = try c.decodeIfPresent(Int.self, forKey: .rotaryDim) ?? 64
        nInner = try c.decodeIfPresent(Int.self, forKey: .nInner)
        activationFunction = try c.decodeIfPresent(String.self, forKey: .activationFunction) ?? "gelu_new"
        residPdrop = try c.decodeIfPresent(Double.self, forKey: .residPdrop) ?? 0
        embdPdrop = try c.decodeIfPresent(Double.self, forKey: .embdPdrop) ?? 0
        attnPdrop = try c.decodeIfPresent(Double.self, forKey: .attnPdrop) ?? 0
        layerNormEpsilon = try c.decodeIfPresent(Double.self, forKey: .layerNormEpsilon) ?? 1e-5
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
        bosTokenId = try c.decodeIfPresent(Int.self, forKey: .bosTokenId)
        eosTokenIds = try c.tokenIds(.eosTokenId)
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(nPositions, forKey: .nPositions)
        try c.encode(nEmbd, forKey: .nEmbd)
        try c.encode(nLayer, forKey: .nLayer)
        try c.encode(nHead, forKey: .nHead)
        try c.encode(rotaryDim, forKey: .rotaryDim)
        try c.encodeIfPresent(nInner, forKey: .nInner)
        try c.encode(activationFunction, forKey: .activationFunction)
        try c.encode(residPdrop, forKey: .residPdrop)
        try c.encode(embdPdrop, forKey: .embdPdrop)
        try c.encode(attnPdrop, forKey: .attnPdrop)
        try c.encode(layerNormEpsilon, forKey: .layerNormEpsilon)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encodeIfPresent(bosTokenId, forKey: .bosTokenId)
        try c.encode(eosTokenIds, forKey: .eosTokenId)
        try c.encodeIfPresent(padTokenId, forKey: .padTokenId)
    }

    /// The size of each head.
    public var headSize: Int { nEmbd / max(nHead, 1) }
    /// The MLP width (`n_inner`, or `4 × n_embd`).
    public var innerSize: Int { nInner ?? 4 * nEmbd }

    /// Checks every field before anything is built (see ``ModelConfig/validate()``).
    public func validate() throws {
        try ConfigCheck.size(vocabSize, "vocab_size", limit: ConfigLimits.maxVocabulary)
        try ConfigCheck.size(nEmbd, "n_embd", limit: ConfigLimits.maxWidth)
        try ConfigCheck.size(nLayer, "n_layer", limit: ConfigLimits.maxLayers)
        try ConfigCheck.size(nHead, "n_head", limit: ConfigLimits.maxHeads)
        try ConfigCheck.size(innerSize, "n_inner", limit: ConfigLimits.maxWidth)
        try ConfigCheck.size(nPositions, "n_positions", limit: ConfigLimits.maxPositions)
        try ConfigCheck.divisible(nEmbd, "n_embd", by: nHead, "n_head", what: "the head size")
        guard rotaryDim >= 2, rotaryDim % 2 == 0, rotaryDim <= headSize else {
            throw ModelError.invalidConfig(
                field: "rotary_dim", reason: "\(rotaryDim) must be even, at least 2 and at most the head size \(headSize)")
        }
        try ConfigCheck.positive(layerNormEpsilon, "layer_norm_epsilon")
        try ConfigCheck.probability(residPdrop, "resid_pdrop")
        try ConfigCheck.probability(embdPdrop, "embd_pdrop")
        try ConfigCheck.probability(attnPdrop, "attn_pdrop")
        try ConfigCheck.token(padTokenId, "pad_token_id", vocabulary: vocabSize)
        guard ["gelu", "gelu_new", "relu", "silu"].contains(activationFunction) else {
            throw ModelError.invalidConfig(field: "activation_function", reason: "unsupported value \"\(activationFunction)\"")
        }
        try ConfigCheck.parameterCount(parameterCountParts)
    }

    /// The parameter count's terms: the embedding (and an untied head), the layers.
    var parameterCountParts: [(field: String, parameters: Double)] {
        let h = Double(nEmbd), inner = Double(innerSize), vocabulary = Double(vocabSize)
        let perLayer = 4 * h * h + 2 * h * inner + inner + h + 2 * h
        return [("vocab_size", vocabulary * h * (tieWordEmbeddings ? 1 : 2) + vocabulary),
                ("n_layer", Double(nLayer) * perLayer + 2 * h)]
    }

    public var parameterCountEstimate: Double { parameterCountParts.reduce(0) { $0 + $1.parameters } }
    public var sizeField: String { "n_layer" }
}

/// Python: `apply_rotary_pos_emb` of GPT-J for one of q or k `[batch, heads, sequence, headDim]`:
/// the first `rotaryDim` features rotated as interleaved pairs `(x₀, x₁), (x₂, x₃), …`
/// (`rotate_every_two`), the rest passed through. `tables` are ``RotaryEmbedding``'s
/// `[cos(θ) | cos(θ)]` halves, which GPT-J repeats pairwise (`repeat_interleave(…, 2)`) instead.
func applyInterleavedRotary(_ x: Tensor, _ tables: RotaryTables) throws -> Tensor {
    let rotaryWidth = try tables.cos.size(-1), width = try x.size(-1)
    let rotated = try x.narrow(dim: -1, start: 0, length: rotaryWidth)
    func pairwise(_ table: Tensor) throws -> Tensor {
        let half = try table.narrow(dim: -1, start: 0, length: rotaryWidth / 2).unsqueeze(1)   // [b, 1, s, r/2]
        return try Tensor.stack([half, half], dim: -1).flatten(startDim: -2)                  // [b, 1, s, r]
    }
    let shape = rotated.shape
    let pairs = try rotated.reshape(Array(shape.dropLast()) + [rotaryWidth / 2, 2])
    let even = try pairs.select(dim: -1, index: 0), odd = try pairs.select(dim: -1, index: 1)
    let everyTwo = try Tensor.stack([-odd, even], dim: -1).reshape(shape)
    let result = try rotated * pairwise(tables.cos) + everyTwo * pairwise(tables.sin)
    guard rotaryWidth < width else { return result }
    return try Tensor.cat([result, x.narrow(dim: -1, start: rotaryWidth, length: width - rotaryWidth)], dim: -1)
}

/// Python: `GPTJAttention`: separate q/k/v projections without biases, rotary on the first
/// `rotary_dim` features of each head in GPT-J's interleaved layout.
public final class GPTJAttention: Module {
    public let k_proj: Linear
    public let v_proj: Linear
    public let q_proj: Linear
    public let out_proj: Linear
    public let resid_dropout: Dropout
    let heads: Int
    let layerIndex: Int

    init(_ config: GPTJConfig, layerIndex: Int, device: Device) throws {
        k_proj = try Linear(config.nEmbd, config.nEmbd, bias: false, device: device)
        v_proj = try Linear(config.nEmbd, config.nEmbd, bias: false, device: device)
        q_proj = try Linear(config.nEmbd, config.nEmbd, bias: false, device: device)
        out_proj = try Linear(config.nEmbd, config.nEmbd, bias: false, device: device)
        resid_dropout = Dropout(config.residPdrop)
        heads = config.nHead
        self.layerIndex = layerIndex
    }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let state = try context.decoderState(for: typeName)
        guard let tables = state.rotaryTables else {
            throw ModelError.invalidInput("\(typeName) needs the rotary tables its model derives (call it through the model)")
        }
        let query = try applyInterleavedRotary(splitHeads(self.q_proj(input), heads: heads), tables)
        var key = try applyInterleavedRotary(splitHeads(self.k_proj(input), heads: heads), tables)
        var value = try splitHeads(self.v_proj(input), heads: heads)
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
        return try self.resid_dropout(self.out_proj(mergeHeads(attended)))
    }
}

/// Python: `GPTJMLP`: `dropout(fc_out(act(fc_in(x))))`.
public final class GPTJMLP: Module {
    public let fc_in: Linear
    public let fc_out: Linear
    public let act: Module
    public let dropout: Dropout

    init(_ config: GPTJConfig, device: Device) throws {
        fc_in = try Linear(config.nEmbd, config.innerSize, device: device)
        fc_out = try Linear(config.innerSize, config.nEmbd, device: device)
        act = config.activationFunction == "gelu" ? GELUActivation() : activation(config.activationFunction)
        dropout = Dropout(config.residPdrop)
    }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try self.dropout(self.fc_out(self.act(self.fc_in(input))))
    }
}

/// Python: `GPTJBlock`: attention and MLP both read `ln_1(x)`; `x + attn + mlp`.
public final class GPTJBlock: Module {
    public let ln_1: LayerNorm
    public let attn: GPTJAttention
    public let mlp: GPTJMLP

    init(_ config: GPTJConfig, layerIndex: Int, device: Device) throws {
        ln_1 = try LayerNorm([config.nEmbd], eps: config.layerNormEpsilon, device: device)
        attn = try GPTJAttention(config, layerIndex: layerIndex, device: device)
        mlp = try GPTJMLP(config, device: device)
    }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let normed = try self.ln_1(input)
        let attended = try self.attn(normed, context)
        let fed = try self.mlp(normed, context)
        return try attended + fed + input
    }
}

/// Python: `GPTJModel`: token ids in, final hidden states out (the shared ``DecoderStack``
/// forward: GPT-J's rotary tables are shared by every block).
public final class GPTJModel: Module, DecoderStack {
    public let wte: Embedding
    public let drop: Dropout
    public let h: ModuleList<GPTJBlock>
    public let ln_f: LayerNorm
    public let rotary_emb: RotaryEmbedding
    public let maxPositions: Int

    init(_ config: GPTJConfig, device: Device) throws {
        wte = try Embedding(config.vocabSize, config.nEmbd, device: device)
        drop = Dropout(config.embdPdrop)
        h = ModuleList(try (0..<config.nLayer).map { try GPTJBlock(config, layerIndex: $0, device: device) })
        ln_f = try LayerNorm([config.nEmbd], eps: config.layerNormEpsilon, device: device)
        // GPT-J's sinusoid table: base 10000 over the rotated width (not configurable in transformers).
        rotary_emb = try RotaryEmbedding(dimension: config.rotaryDim, theta: 10000, classPrefix: "GPTJ", device: device)
        maxPositions = config.nPositions
    }

    public var decoderLayers: [Module] { h.map { $0 } }
    public var finalNorm: Module? { ln_f }
    public var tokenEmbedding: Embedding { wte }

    public func embed(_ input: Tensor, positionIds: Tensor, _ context: ForwardContext) throws -> Tensor {
        try drop(wte(input, context), context)
    }

    public func rotaryTables(_ positionIds: Tensor, dtype: DType, _ context: ForwardContext) throws -> LayerRotaryTables {
        .shared(try rotary_emb.tables(positionIds, dtype: dtype, context: context))
    }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try decoderStackForward(input, context)
    }
}

/// Python: `GPTJForCausalLM`. Its `lm_head` has a bias (tied or not, the bias is its own).
public typealias GPTJForCausalLM = DecoderForCausalLM<GPTJModel, GPTJConfig>

extension DecoderForCausalLM where Base == GPTJModel, Config == GPTJConfig {
    public convenience init(_ config: GPTJConfig, device: Device = .cpu) throws {
        try self.init(config, className: "GPTJForCausalLM", baseModelName: "transformer", headBias: true, device: device) {
            try GPTJModel(config, device: device)
        }
    }

    public var transformer: GPTJModel { baseModel }
}

/// GPT-J in the registry (`model_type` `gptj`): safetensors checkpoints.
public enum GPTJFamily: ModelFamily {
    public static let modelType = "gptj"

    public static func makeModel(_ config: GPTJConfig, device: Device) throws -> any CausalLanguageModel {
        try GPTJForCausalLM(config, device: device)
    }

    /// Older checkpoints also hold each attention's causal-mask buffers (`attn.bias`,
    /// `attn.masked_bias`), which the model recomputes.
    public static func modelKey(forCheckpointKey key: String, config: GPTJConfig) -> String? {
        if key.hasSuffix(".attn.bias") || key.hasSuffix(".attn.masked_bias") || key.hasSuffix("embed_positions") {
            return nil
        }
        return config.tieWordEmbeddings && key == "lm_head.weight" ? nil : key
    }

    public static let standardNames = StandardNames(
        layers: "transformer.h", selfAttention: "attn", mlp: "mlp", finalNorm: "transformer.ln_f",
        embedTokens: "transformer.wte")
}
