import NNsightNN
import NNsightTorch

/// The `…ForCausalLM` of every family whose stack is laid out as `LlamaModel` (a
/// ``RotaryDecoderStack``): the stack stored as `model`, `lm_head` (tied to `model.embed_tokens`
/// when the config says so) and the config. A family names its specialisation and gives it a
/// convenience `init` that builds its stack:
///
///     /// Python: `MixtralForCausalLM`.
///     public typealias MixtralForCausalLM = DecoderForCausalLM<MixtralModel, MixtralConfig>
///
///     extension DecoderForCausalLM where Base == MixtralModel, Config == MixtralConfig {
///         public convenience init(_ config: MixtralConfig, device: Device = .cpu) throws {
///             try self.init(config, className: "MixtralForCausalLM", device: device) {
///                 try MixtralModel(config, device: device)
///             }
///         }
///     }
///
/// Made on the CPU, its linear weights are held packed (`packLinearWeights()`).
public final class DecoderForCausalLM<Base: RotaryDecoderStack, Config: ModelConfig>: Module, DecoderLanguageModel {
    public let model: Base
    public let lm_head: Linear
    public let config: Config
    /// transformers' class name (`LlamaForCausalLM`, `Gemma2ForCausalLM`), as printed.
    let className: String
    /// Gemma 2 and 3: `final_logit_softcapping`, applied after `lm_head` outside any module (so
    /// `lm_head.output` is uncapped, as in Python).
    let finalLogitSoftcap: Double?

    /// Checks `config` (``ModelConfig/checkBuildable(on:)``) before anything is allocated, builds
    /// the stack with `makeModel`, then the head.
    init(_ config: Config, className: String, finalLogitSoftcap: Double? = nil, device: Device,
         makeModel: () throws -> Base) throws {
        try config.checkBuildable(on: device)
        self.config = config
        self.className = className
        self.finalLogitSoftcap = finalLogitSoftcap
        model = try makeModel()
        lm_head = try languageModelHead(for: model.embed_tokens, tied: config.tieWordEmbeddings, device: device)
        super.init()
        try packLinearWeights()
    }

    public override var typeName: String { className }
    public var baseModel: Base { model }

    public func finalLogits(_ logits: Tensor) throws -> Tensor {
        try softcapped(logits, cap: finalLogitSoftcap)
    }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try languageModelForward(input, context)
    }
}
