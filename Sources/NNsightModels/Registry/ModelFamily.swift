import Foundation
import NNsightGGUF
import NNsightNN
import NNsightTorch

/// A model family's `config.json`: decoded, then checked as a whole before anything is built.
public protocol ModelConfig: Codable, Sendable {
    /// Checks every field: positive sizes, shapes that divide, supported options, a size that
    /// can be built. Throws ``ModelError/invalidConfig(field:reason:)`` naming the field.
    func validate() throws
    /// Tokens that end generation (`eos_token_id`).
    var eosTokenIds: [Int] { get }
    /// The padding token the config names (`pad_token_id`), if any.
    var padTokenId: Int? { get }
    /// Whether `lm_head` shares the token embedding's weight.
    var tieWordEmbeddings: Bool { get }
    /// An estimate of the model's parameter count from the sizes alone (computed in floating
    /// point, so absurd sizes cannot overflow): `validate()` refuses sizes past any real
    /// model's, and building or loading refuses what cannot fit in memory.
    var parameterCountEstimate: Double { get }
    /// The field a too-large model is blamed on (the layer count, usually).
    var sizeField: String { get }
}

/// Where a family's tokenizer pads and with what, when its files do not say.
public struct TokenizerDefaults: Sendable, Equatable {
    /// The token that fills padded positions when neither the tokenizer nor the config names one.
    public enum PadToken: Sendable, Equatable {
        /// The first end-of-sequence token (GPT-2 and Llama checkpoints ship no pad token).
        case endOfSequence
        case id(Int)
    }

    public var padToken: PadToken
    /// Decoder-only models generate from the right edge, so prompts are padded on the left.
    public var padsLeft: Bool

    public init(padToken: PadToken = .endOfSequence, padsLeft: Bool = true) {
        self.padToken = padToken
        self.padsLeft = padsLeft
    }
}

/// One architecture, keyed by its `config.json` `model_type`: everything the loader needs to
/// build it and fill it from a checkpoint.
///
/// ## Adding a model family
/// 1. Write one file, `Sources/NNsightModels/<Family>/<Family>.swift`, holding the family's layer
///    (attention, MLP, block; named as transformers names them, so checkpoint keys and nnsight
///    paths carry over), its model as a ``DecoderStack`` (or a ``DecoderModel``) and its
///    causal LM as a ``DecoderLanguageModel`` (which share the skeleton: masks, positions,
///    rotary tables, the layer loop, `lm_head`), a config type conforming to ``ModelConfig``,
///    and an `enum <Family>Family: ModelFamily` giving ``modelType``, ``makeModel(_:device:)``
///    and ``standardNames``; override the other requirements only where the defaults below do
///    not fit.
/// 2. Add `<Family>Family.self` to ``ModelRegistry/families``.
///
/// Nothing else switches on `model_type`: loading, GGUF, tokenizer defaults, the standard-name
/// preset and its load-time check all go through this protocol. See `GPT2Family` (a safetensors
/// family) and `LlamaFamily` (with GGUF) as examples.
public protocol ModelFamily: SendableMetatype {
    associatedtype Config: ModelConfig

    /// `config.json`'s `model_type` (`"gpt2"`).
    static var modelType: String { get }

    /// Decodes and validates a `config.json`. Default: `JSONDecoder` then `validate()`.
    static func decodeConfig(from data: Data) throws -> Config

    /// Builds the architecture (on `.meta`: shapes only, no weights). `config` is validated.
    static func makeModel(_ config: Config, device: Device) throws -> any CausalLanguageModel

    /// The model's key for a safetensors key, or nil for a tensor the model recomputes (a causal
    /// mask buffer, rotary frequencies). Default: the key unchanged; a tied `lm_head.weight` and
    /// `rotary_emb.inv_freq` dropped.
    static func modelKey(forCheckpointKey key: String, config: Config) -> String?

    /// The checkpoint's tensors, before ``modelKey(forCheckpointKey:config:)``, with those the
    /// model holds as one tensor combined (Mixtral stacks its per-expert weights). Default: unchanged.
    /// The loader calls it with one layer's tensors at a time (keys `….layers.<i>.…`), then with
    /// the rest, and gives back the mapped pages of the tensors each call consumed before the next.
    ///
    /// `release` gives back at once the memory-mapped pages under a tensor of `weights` that has
    /// just been copied into a combined one: call it on each part as soon as it is copied, so that
    /// the load never holds a part and its copy together (a layer's experts, all touched before
    /// the layer's call returns, would otherwise be held twice). It is only a hint to the kernel:
    /// a tensor still read later reads its pages again from the file, so an early call costs time,
    /// never correctness; tensors that do not view the file are left alone.
    static func combineCheckpointTensors(_ weights: [String: Tensor], config: Config,
                                         release: (Tensor) -> Void) throws -> [String: Tensor]

    /// The `general.architecture` values of llama.cpp's GGUF files this family reads (default:
    /// none, no GGUF support).
    static var ggufArchitectures: [String] { get }

    /// The configuration of a GGUF file whose architecture is one of ``ggufArchitectures``.
    static func config(fromGGUF file: GGUFFile) throws -> Config

    /// The model's key for a llama.cpp tensor name (`blk.0.attn_q.weight`), or nil if unknown.
    static func modelKey(forGGUFTensor name: String, config: Config) -> String?

    /// A GGUF tensor (dequantized, in llama.cpp's layout) in the layout the model expects: undoes
    /// llama.cpp's conventions (rotary row permutation, norm offsets). Default: unchanged.
    static func convertGGUFTensor(_ tensor: Tensor, ggufName: String, config: Config) throws -> Tensor

    /// The GGUF's tensors by model key (after ``modelKey(forGGUFTensor:config:)`` and
    /// ``convertGGUFTensor(_:ggufName:config:)``), with those the model holds as one combined
    /// (Qwen3-MoE joins `ffn_gate_exps` and `ffn_up_exps`). Default: unchanged.
    static func combineGGUFTensors(_ weights: [String: Tensor], config: Config) throws -> [String: Tensor]

    /// Tokenizer defaults when the checkpoint's files do not say. Default: pad with eos, on the left.
    static var tokenizerDefaults: TokenizerDefaults { get }

    /// Where this family's modules sit under the standard names (nnterp's `layers`, `self_attn`,
    /// `mlp`, `ln_final`, `lm_head`, `embed_tokens`).
    static var standardNames: StandardNames { get }

    /// The standard names for one configuration, where its modules differ (OPT-350m's
    /// `project_in`/`project_out`). Default: ``standardNames``.
    static func standardNames(for config: Config) -> StandardNames
}

extension ModelFamily {
    public static func decodeConfig(from data: Data) throws -> Config {
        let config = try JSONDecoder().decode(Config.self, from: data)
        try config.validate()
        return config
    }

    public static func modelKey(forCheckpointKey key: String, config: Config) -> String? {
        if key.hasSuffix("rotary_emb.inv_freq") { return nil }
        if config.tieWordEmbeddings && key == "lm_head.weight" { return nil }
        return key
    }

    public static func combineCheckpointTensors(_ weights: [String: Tensor], config: Config,
                                                release: (Tensor) -> Void) throws -> [String: Tensor] {
        weights
    }

    public static var ggufArchitectures: [String] { [] }

    public static func config(fromGGUF file: GGUFFile) throws -> Config {
        throw ModelError.unsupportedArchitecture("\(modelType) (GGUF)", supported: ModelRegistry.supportedGGUFArchitectures)
    }

    public static func modelKey(forGGUFTensor name: String, config: Config) -> String? { nil }

    public static func convertGGUFTensor(_ tensor: Tensor, ggufName: String, config: Config) throws -> Tensor { tensor }

    public static func combineGGUFTensors(_ weights: [String: Tensor], config: Config) throws -> [String: Tensor] { weights }

    public static var tokenizerDefaults: TokenizerDefaults { TokenizerDefaults() }

    public static func standardNames(for config: Config) -> StandardNames { standardNames }
}

// MARK: The family's entry points with the configuration's type erased (what the loader calls)

extension ModelFamily {
    static func typed(_ config: any ModelConfig) throws -> Config {
        guard let typed = config as? Config else {
            throw ModelError.invalidConfig(field: "model_type", reason: "\(type(of: config)) is not \(modelType)'s configuration")
        }
        return typed
    }

    static func standardNamesErased(_ config: any ModelConfig) -> StandardNames {
        (config as? Config).map { standardNames(for: $0) } ?? standardNames
    }

    static func decodeErased(_ data: Data) throws -> any ModelConfig { try decodeConfig(from: data) }

    static func makeModelErased(_ config: any ModelConfig, device: Device) throws -> any CausalLanguageModel {
        let model = try makeModel(typed(config), device: device)
        model.eval()
        return model
    }

    static func modelKeyErased(forCheckpointKey key: String, config: any ModelConfig) throws -> String? {
        modelKey(forCheckpointKey: key, config: try typed(config))
    }

    static func combineCheckpointTensorsErased(_ weights: [String: Tensor], config: any ModelConfig,
                                               release: (Tensor) -> Void) throws -> [String: Tensor] {
        try combineCheckpointTensors(weights, config: typed(config), release: release)
    }

    static func ggufConfigErased(_ file: GGUFFile) throws -> any ModelConfig {
        let config = try config(fromGGUF: file)
        try config.validate()
        return config
    }

    static func ggufWeights(_ file: GGUFFile, config: any ModelConfig, dtype: DType,
                            device: (String) -> Device = { _ in .cpu },
                            transposedLayout: Set<String> = []) throws -> [String: Tensor] {
        try readGGUFTensors(file, family: Self.self, config: typed(config), dtype: dtype, device: device,
                            transposedLayout: transposedLayout)
    }
}
