// Port of transformers' models/gpt2/modeling_gpt2.py (GPT2LMHeadModel), with the same module
// names, so checkpoint keys and nnsight paths (`transformer.h.0.attn.c_attn`) are unchanged.
import NNsightNN
import NNsightTorch

/// Python: `GPT2Attention`.
public final class GPT2Attention: Module {
    public let c_attn: Conv1D
    public let c_proj: Conv1D
    public let attn_dropout: Dropout
    public let resid_dropout: Dropout
    let heads: Int
    let layerIndex: Int

    init(_ config: GPT2Config, layerIndex: Int, device: Device) throws {
        c_attn = try Conv1D(nf: 3 * config.nEmbd, nx: config.nEmbd, device: device)
        c_proj = try Conv1D(nf: config.nEmbd, nx: config.nEmbd, device: device)
        attn_dropout = Dropout(config.attnPdrop)
        resid_dropout = Dropout(config.residPdrop)
        heads = config.nHead
        self.layerIndex = layerIndex
    }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let qkv = try self.c_attn(input).split(input.size(-1), dim: 2)
        let query = try splitHeads(qkv[0], heads: heads)
        var key = try splitHeads(qkv[1], heads: heads)
        var value = try splitHeads(qkv[2], heads: heads)
        let mask = try context.decoderState(for: "GPT2Attention").attentionMask
        if let cache = context.cache {
            (key, value) = try cache.update(layer: layerIndex, keys: key, values: value)
        }
        let attended: Tensor
        if self.sourceHooked(explicitAttentionOperations) {
            let scores = try attentionScores(query, key)
            let pattern = try attentionPattern(scores, mask: mask)
            let weighted = try weightedValues(pattern, value)
            attended = weighted
        } else {
            attended = try fusedAttention(query, key, value, mask: mask)
        }
        return try self.resid_dropout(self.c_proj(mergeHeads(attended)))
    }
}

/// Python: `GPT2MLP`.
public final class GPT2MLP: Module {
    public let c_fc: Conv1D
    public let c_proj: Conv1D
    public let act: Module
    public let dropout: Dropout

    init(_ config: GPT2Config, device: Device) throws {
        let inner = config.nInner ?? 4 * config.nEmbd
        c_fc = try Conv1D(nf: inner, nx: config.nEmbd, device: device)
        c_proj = try Conv1D(nf: config.nEmbd, nx: inner, device: device)
        act = activation(config.activationFunction)
        dropout = Dropout(config.residPdrop)
    }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try self.dropout(self.c_proj(self.act(self.c_fc(input))))
    }
}

/// Python: `GPT2Block`.
public final class GPT2Block: Module {
    public let ln_1: LayerNorm
    public let attn: GPT2Attention
    public let ln_2: LayerNorm
    public let mlp: GPT2MLP

    init(_ config: GPT2Config, layerIndex: Int, device: Device) throws {
        ln_1 = try LayerNorm([config.nEmbd], eps: config.layerNormEpsilon, device: device)
        attn = try GPT2Attention(config, layerIndex: layerIndex, device: device)
        ln_2 = try LayerNorm([config.nEmbd], eps: config.layerNormEpsilon, device: device)
        mlp = try GPT2MLP(config, device: device)
    }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let hidden = try self.attn(self.ln_1(input), context) + input
        return try self.mlp(self.ln_2(hidden), context) + hidden
    }
}

/// Python: `GPT2Model`: token ids in, final hidden states out (learned positions, no rotary).
public final class GPT2Model: Module, DecoderStack {
    public let wte: Embedding
    public let wpe: Embedding
    public let drop: Dropout
    public let h: ModuleList<GPT2Block>
    public let ln_f: LayerNorm
    public let maxPositions: Int

    init(_ config: GPT2Config, device: Device) throws {
        wte = try Embedding(config.vocabSize, config.nEmbd, device: device)
        wpe = try Embedding(config.nPositions, config.nEmbd, device: device)
        drop = Dropout(config.embdPdrop)
        h = ModuleList(try (0..<config.nLayer).map { try GPT2Block(config, layerIndex: $0, device: device) })
        ln_f = try LayerNorm([config.nEmbd], eps: config.layerNormEpsilon, device: device)
        maxPositions = config.nPositions
    }

    public var decoderLayers: [Module] { h.map { $0 } }
    public var finalNorm: Module? { ln_f }
    public var tokenEmbedding: Embedding { wte }

    public func embed(_ input: Tensor, positionIds: Tensor, _ context: ForwardContext) throws -> Tensor {
        try drop(wte(input, context) + wpe(positionIds, context), context)
    }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try decoderStackForward(input, context)
    }
}

/// Python: `GPT2LMHeadModel`. `lm_head` shares `transformer.wte`'s weight when tied.
public typealias GPT2LMHeadModel = DecoderForCausalLM<GPT2Model, GPT2Config>

extension DecoderForCausalLM where Base == GPT2Model, Config == GPT2Config {
    public convenience init(_ config: GPT2Config, device: Device = .cpu) throws {
        try self.init(config, className: "GPT2LMHeadModel", baseModelName: "transformer", device: device) {
            try GPT2Model(config, device: device)
        }
    }

    public var transformer: GPT2Model { baseModel }
}

/// The activation module for a `config.json` name.
func activation(_ name: String) -> Module {
    switch name {
    case "gelu": return GELU()
    case "relu": return ReLU()
    case "silu": return SiLU()
    default: return NewGELUActivation()
    }
}
