// Port of transformers' models/qwen3_moe/modeling_qwen3_moe.py (Qwen3MoeForCausalLM), with
// transformers 5's module names and tree: Qwen3's attention (`q_norm`/`k_norm` over each head),
// and as each sparse layer's `mlp` a `Qwen3MoeSparseMoeBlock` — the ``SparseMoeBlock`` Mixtral
// uses (MoE/SparseMoe.swift), with `experts` before the router `gate` and the top-k probabilities
// renormalised only under `norm_topk_prob`. Layers in `mlp_only_layers`, or off the
// `decoder_sparse_step`, have a dense `Qwen3MoeMLP`. Checkpoints in the hub's per-expert layout
// (`mlp.experts.3.gate_proj.weight`) are stacked at load; llama.cpp's `qwen3moe` GGUF stores them
// stacked already (`ffn_gate_exps`, `ffn_up_exps`, `ffn_down_exps`).
import Foundation
import NNsightGGUF
import NNsightNN
import NNsightTorch

/// Qwen3-MoE's `config.json`: Llama's fields (``LlamaConfig``) plus the mixture of experts. Port
/// of transformers' `Qwen3MoeConfig`.
public struct Qwen3MoeConfig: LlamaExtendingConfig, Equatable {
    /// The dense fields (sizes, heads, rotary, sliding window); `intermediate_size` is the dense
    /// layers' MLP width.
    public var llama: LlamaConfig
    /// Experts per sparse layer (Python: `num_experts`; saved as `num_local_experts`).
    public var numExperts: Int
    /// Experts each token is routed to (`num_experts_per_tok`).
    public var numExpertsPerToken: Int
    /// Each expert's MLP width (`moe_intermediate_size`).
    public var moeIntermediateSize: Int
    /// Whether the top-k probabilities are renormalised to sum to one (`norm_topk_prob`).
    public var normTopkProb: Bool
    /// Every `decoder_sparse_step`-th layer is sparse (layer i when `(i + 1) % step == 0`).
    public var decoderSparseStep: Int
    /// Layers with a dense MLP whatever the step (`mlp_only_layers`).
    public var mlpOnlyLayers: [Int]

    enum CodingKeys: String, CodingKey {
        case numExperts = "num_experts", numLocalExperts = "num_local_experts", numExpertsPerTok = "num_experts_per_tok"
        case moeIntermediateSize = "moe_intermediate_size", normTopkProb = "norm_topk_prob"
        case decoderSparseStep = "decoder_sparse_step", mlpOnlyLayers = "mlp_only_layers"
        case useSlidingWindow = "use_sliding_window", maxPositionEmbeddings = "max_position_embeddings"
    }

    public init(_ llama: LlamaConfig, numExperts: Int = 128, numExpertsPerToken: Int = 8, moeIntermediateSize: Int = 768,
                normTopkProb: Bool = false, decoderSparseStep: Int = 1, mlpOnlyLayers: [Int] = []) {
        self.llama = llama
        self.numExperts = numExperts
        self.numExpertsPerToken = numExpertsPerToken
        self.moeIntermediateSize = moeIntermediateSize
        self.normTopkProb = normTopkProb
        self.decoderSparseStep = decoderSparseStep
        self.mlpOnlyLayers = mlpOnlyLayers
    }

    /// Llama's fields, then the experts' with transformers' defaults; the sliding window only
    /// with `use_sliding_window` (default false), then on every layer.
    public init(from decoder: Decoder) throws {
        llama = try LlamaConfig(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        numExperts = try c.decodeIfPresent(Int.self, forKey: .numExperts)
            ?? c.decodeIfPresent(Int.self, forKey: .numLocalExperts) ?? 128
        numExpertsPerToken = try c.decodeIfPresent(Int.self, forKey: .numExpertsPerTok) ?? 8
        moeIntermediateSize = try c.decodeIfPresent(Int.self, forKey: .moeIntermediateSize) ?? 768
        normTopkProb = try c.decodeIfPresent(Bool.self, forKey: .normTopkProb) ?? false
        decoderSparseStep = try c.decodeIfPresent(Int.self, forKey: .decoderSparseStep) ?? 1
        mlpOnlyLayers = try c.decodeIfPresent([Int].self, forKey: .mlpOnlyLayers) ?? []
        llama.useSlidingWindow = try c.decodeIfPresent(Bool.self, forKey: .useSlidingWindow) ?? false
        if try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) == nil { llama.maxPositionEmbeddings = 32768 }
    }

    public func encode(to encoder: Encoder) throws {
        try llama.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(numExperts, forKey: .numExperts)
        try c.encode(numExpertsPerToken, forKey: .numExpertsPerTok)
        try c.encode(moeIntermediateSize, forKey: .moeIntermediateSize)
        try c.encode(normTopkProb, forKey: .normTopkProb)
        try c.encode(decoderSparseStep, forKey: .decoderSparseStep)
        try c.encode(mlpOnlyLayers, forKey: .mlpOnlyLayers)
    }

    /// Whether layer `index` has the sparse MoE block (Python: `Qwen3MoeDecoderLayer.__init__`).
    public func isSparse(layer index: Int) -> Bool {
        !mlpOnlyLayers.contains(index) && numExperts > 0 && (index + 1) % decoderSparseStep == 0
    }

    /// The sparse layers' block.
    var moeSettings: SparseMoeSettings {
        SparseMoeSettings(classPrefix: "Qwen3Moe", hiddenSize: llama.hiddenSize, expertSize: moeIntermediateSize,
                          experts: numExperts, topK: numExpertsPerToken, normalizeTopK: normTopkProb, expertsFirst: true,
                          weightsInLogitsDType: true)
    }

    /// Llama's checks (on the dense sizes), then the experts' (see ``ModelConfig/validate()``).
    public func validate() throws {
        try llama.validate()
        try ConfigCheck.size(decoderSparseStep, "decoder_sparse_step", limit: ConfigLimits.maxLayers)
        for layer in mlpOnlyLayers where !(0..<llama.numHiddenLayers).contains(layer) {
            throw ModelError.invalidConfig(field: "mlp_only_layers",
                                           reason: "layer \(layer) is outside 0..<num_hidden_layers (\(llama.numHiddenLayers))")
        }
        guard numExperts >= 0, numExperts <= 4096 else {
            throw ModelError.invalidConfig(field: "num_experts", reason: "\(numExperts) must be in 0...4096")
        }
        if (0..<llama.numHiddenLayers).contains(where: isSparse) {
            try ConfigCheck.size(moeIntermediateSize, "moe_intermediate_size", limit: ConfigLimits.maxWidth)
            guard (1...numExperts).contains(numExpertsPerToken) else {
                throw ModelError.invalidConfig(
                    field: "num_experts_per_tok", reason: "\(numExpertsPerToken) must be in 1...num_experts (\(numExperts))")
            }
        }
        try ConfigCheck.parameterCount(parameterCountParts)
    }

    /// Llama's estimate (q/k norms included), each sparse layer's MLP replaced by its experts and router.
    var parameterCountParts: [(field: String, parameters: Double)] {
        var dense = llama
        dense.queryKeyNormParameters = 2 * Double(llama.headDim)
        let h = Double(llama.hiddenSize)
        let sparseLayers = Double((0..<max(llama.numHiddenLayers, 0)).filter(isSparse).count)
        let perSparse = Double(numExperts) * (3 * h * Double(moeIntermediateSize) + h) - 3 * h * Double(llama.intermediateSize)
        return dense.parameterCountParts + [("num_experts", sparseLayers * perSparse)]
    }

    public var parameterCountEstimate: Double { parameterCountParts.reduce(0) { $0 + $1.parameters } }
}

/// How Qwen3-MoE differs from Llama in the modules it shares with it: class names, `q_norm`/`k_norm`.
let qwen3MoeVariant = LlamaVariant(classPrefix: "Qwen3Moe", outputProjectionBias: true, ggufPermutesRotaryRows: false,
                                   queryKeyNorm: true)

/// Python: `Qwen3MoeDecoderLayer`: Llama's pre-norm layer with Qwen3's attention, and as its
/// `mlp` the sparse MoE block (``SparseMoeBlock``) or, on dense layers, `Qwen3MoeMLP`.
public final class Qwen3MoeDecoderLayer: Module {
    public let self_attn: LlamaAttention
    /// A ``SparseMoeBlock`` on sparse layers, a ``LlamaMLP`` (`Qwen3MoeMLP`) on dense ones.
    public let mlp: Module
    public let input_layernorm: LlamaRMSNorm
    public let post_attention_layernorm: LlamaRMSNorm

    init(_ config: Qwen3MoeConfig, layerIndex: Int, device: Device) throws {
        self_attn = try LlamaAttention(config.llama, variant: qwen3MoeVariant, layerIndex: layerIndex, device: device)
        mlp = config.isSparse(layer: layerIndex)
            ? try SparseMoeBlock(config.moeSettings, device: device)
            : try LlamaMLP(config.llama, variant: qwen3MoeVariant, device: device)
        input_layernorm = try LlamaRMSNorm(config.llama, variant: qwen3MoeVariant, device: device)
        post_attention_layernorm = try LlamaRMSNorm(config.llama, variant: qwen3MoeVariant, device: device)
    }

    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let hidden = try self.self_attn(self.input_layernorm(input), context) + input
        return try self.mlp(self.post_attention_layernorm(hidden), context) + hidden
    }
}

/// Python: `Qwen3MoeModel`: token ids in, final hidden states out (every layer over the sliding
/// window when `use_sliding_window` is set).
public typealias Qwen3MoeModel = DecoderModel<Qwen3MoeDecoderLayer, LlamaRMSNorm, RotaryEmbedding>

/// Python: `Qwen3MoeForCausalLM`.
public typealias Qwen3MoeForCausalLM = DecoderForCausalLM<Qwen3MoeModel, Qwen3MoeConfig>

extension DecoderForCausalLM where Base == Qwen3MoeModel, Config == Qwen3MoeConfig {
    public convenience init(_ config: Qwen3MoeConfig, device: Device = .cpu) throws {
        try self.init(config, className: "Qwen3MoeForCausalLM", device: device) {
            try Qwen3MoeModel(config.llama, variant: qwen3MoeVariant, device: device) {
                try Qwen3MoeDecoderLayer(config, layerIndex: $0, device: device)
            }
        }
    }

    public var model: Qwen3MoeModel { baseModel }
}

/// Qwen3-MoE in the registry (`model_type` `qwen3_moe`): safetensors checkpoints in the hub's
/// per-expert layout or transformers 5's stacked one, and llama.cpp's `qwen3moe` GGUF.
public enum Qwen3MoeFamily: ModelFamily {
    public static let modelType = "qwen3_moe"
    public static let ggufArchitectures = ["qwen3moe"]

    public static func decodeConfig(from data: Data) throws -> Qwen3MoeConfig {
        var config = try JSONDecoder().decode(Qwen3MoeConfig.self, from: data)
        finish(&config)
        try config.validate()
        return config
    }

    /// transformers' reading of the window (`Qwen3MoeConfig.__post_init__`): `sliding_window`
    /// (default 4096) only with `use_sliding_window`, then on every layer.
    static func finish(_ config: inout Qwen3MoeConfig) {
        config.llama.modelType = modelType
        if config.llama.useSlidingWindow {
            config.llama.slidingWindow = config.llama.slidingWindow ?? 4096
        } else {
            config.llama.slidingWindow = nil
        }
        config.llama.slideEveryLayerWhenWindowed()
        config.llama.queryKeyNormParameters = 2 * Double(config.llama.headDim)
    }

    public static func makeModel(_ config: Qwen3MoeConfig, device: Device) throws -> any CausalLanguageModel {
        try Qwen3MoeForCausalLM(config, device: device)
    }

    /// Stacks the hub's per-expert `mlp.experts.<e>.gate_proj`, `up_proj` and `down_proj` weights
    /// into `mlp.experts.gate_up_proj` and `mlp.experts.down_proj`, as transformers 5 does.
    public static func combineCheckpointTensors(_ weights: [String: Tensor], config: Qwen3MoeConfig,
                                                release: (Tensor) -> Void) throws -> [String: Tensor] {
        try stackPerExpertWeights(weights, experts: config.numExperts, names: ("gate_proj", "up_proj", "down_proj"), release: release)
    }

    /// llama.cpp's `qwen3moe.*` hyperparameters (`qwen3moe.attention.key_length` is `head_dim`).
    /// llama.cpp renormalises the top-k weights always (its Qwen3-MoE graph passes `norm_w`), so
    /// `norm_topk_prob` is true unless the file says otherwise (`expert_weights_norm`); a layer
    /// without a router (`ffn_gate_inp`) is dense, which llama.cpp itself cannot run.
    public static func config(fromGGUF file: GGUFFile) throws -> Qwen3MoeConfig {
        var llama = try llamaConfig(fromGGUF: file, modelType: modelType)
        let m = file.metadata
        let experts: Int, used: Int, expertSize: Int?, normalize: Bool?
        do {
            if let keyLength = try m.optional("qwen3moe.attention.key_length", as: Int.self) { llama.headDim = keyLength }
            experts = try m.int("qwen3moe.expert_count")
            used = try m.int("qwen3moe.expert_used_count")
            expertSize = try m.optional("qwen3moe.expert_feed_forward_length", as: Int.self)
            normalize = try m.optional("qwen3moe.expert_weights_norm", as: Bool.self)
        } catch {
            throw ModelError.malformedCheckpoint(file: file.path ?? "(GGUF)", reason: "\(error)")
        }
        llama.headDimGiven = true
        let dense = (0..<llama.numHiddenLayers).filter { !file.tensorNames.contains("blk.\($0).ffn_gate_inp.weight") }
        var config = Qwen3MoeConfig(llama, numExperts: experts, numExpertsPerToken: used,
                                    moeIntermediateSize: expertSize ?? llama.intermediateSize / max(used, 1),
                                    normTopkProb: normalize ?? true, decoderSparseStep: 1, mlpOnlyLayers: dense)
        finish(&config)
        return config
    }

    public static func modelKey(forGGUFTensor name: String, config: Qwen3MoeConfig) -> String? {
        let parts = name.split(separator: ".", maxSplits: 2)
        let perLayer = [
            "attn_q_norm.weight": "self_attn.q_norm.weight", "attn_k_norm.weight": "self_attn.k_norm.weight",
            "ffn_gate_inp.weight": "mlp.gate.weight",
            // Stacked [experts, …] already; gate and up are joined by combineGGUFTensors.
            "ffn_gate_exps.weight": "mlp.experts.gate_proj", "ffn_up_exps.weight": "mlp.experts.up_proj",
            "ffn_down_exps.weight": "mlp.experts.down_proj",
        ]
        if parts.count == 3, parts[0] == "blk", let layer = Int(parts[1]), let suffix = perLayer[String(parts[2])] {
            return "model.layers.\(layer).\(suffix)"
        }
        return llamaModelKey(forGGUFTensor: name)
    }

    /// Joins each layer's stacked `ffn_gate_exps` and `ffn_up_exps` `[experts, mlp, hidden]` into
    /// `gate_up_proj` `[experts, 2 × mlp, hidden]`.
    public static func combineGGUFTensors(_ weights: [String: Tensor], config: Qwen3MoeConfig) throws -> [String: Tensor] {
        var result = weights
        for (key, gate) in weights where key.hasSuffix(".mlp.experts.gate_proj") {
            let prefix = String(key.dropLast("gate_proj".count))
            guard let up = weights[prefix + "up_proj"] else {
                throw ModelError.malformedCheckpoint(file: key, reason: "ffn_gate_exps without its ffn_up_exps")
            }
            result[prefix + "gate_up_proj"] = try Tensor.cat([gate, up], dim: 1)
            result[key] = nil
            result[prefix + "up_proj"] = nil
        }
        return result
    }

    public static let standardNames = StandardNames(
        layers: "model.layers", selfAttention: "self_attn", mlp: "mlp", finalNorm: "model.norm",
        embedTokens: "model.embed_tokens")
}
