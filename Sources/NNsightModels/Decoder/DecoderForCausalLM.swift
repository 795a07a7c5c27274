import NNsightNN
import NNsightTorch

/// The `…ForCausalLM` (GPT-2: `…LMHeadModel`) of every family whose decoder stack is one
/// ``DecoderStack``: the stack, stored under transformers' name for it (`model`, `transformer`,
/// `gpt_neox`: ``baseModelName``), then `lm_head` (tied to the stack's
/// ``DecoderStack/tokenEmbedding`` when the config says so), and the config. A family names its
/// specialisation and gives it a convenience `init` that builds its stack, and an accessor under
/// the stack's Python name:
///
///     /// Python: `GPTNeoXForCausalLM`.
///     public typealias GPTNeoXForCausalLM = DecoderForCausalLM<GPTNeoXModel, GPTNeoXConfig>
///
///     extension DecoderForCausalLM where Base == GPTNeoXModel, Config == GPTNeoXConfig {
///         public convenience init(_ config: GPTNeoXConfig, device: Device = .cpu) throws {
///             try self.init(config, className: "GPTNeoXForCausalLM", baseModelName: "gpt_neox", device: device) {
///                 try GPTNeoXModel(config, device: device)
///             }
///         }
///         public var gpt_neox: GPTNeoXModel { baseModel }
///     }
///
/// Made on the CPU, its linear weights are held packed (`packLinearWeights()`).
public final class DecoderForCausalLM<Base: DecoderBody, Config: ModelConfig>: Module, DecoderLanguageModel {
    /// The decoder stack, printed and addressed as ``baseModelName`` (Python: `model.base_model`).
    public let baseModel: Base
    public let lm_head: Linear
    public let config: Config
    /// transformers' class name (`LlamaForCausalLM`, `GPT2LMHeadModel`), as printed.
    let className: String
    /// transformers' attribute name of the stack (`model`; GPT-2, GPT-J: `transformer`;
    /// GPT-NeoX: `gpt_neox`): its name in the printed tree, module paths and checkpoint keys.
    public let baseModelName: String
    /// Gemma 2 and 3: `final_logit_softcapping`, applied after `lm_head` outside any module (so
    /// `lm_head.output` is uncapped, as in Python).
    let finalLogitSoftcap: Double?

    /// Checks `config` (``ModelConfig/checkBuildable(on:)``) before anything is allocated, builds
    /// the stack with `makeModel`, then the head (with a bias of its own when `headBias`: GPT-J).
    init(_ config: Config, className: String, baseModelName: String = "model", headBias: Bool = false,
         finalLogitSoftcap: Double? = nil, device: Device, makeModel: () throws -> Base) throws {
        try config.checkBuildable(on: device)
        self.config = config
        self.className = className
        self.baseModelName = baseModelName
        self.finalLogitSoftcap = finalLogitSoftcap
        baseModel = try makeModel()
        lm_head = try languageModelHead(for: baseModel.tokenEmbedding, tied: config.tieWordEmbeddings, bias: headBias,
                                        device: device)
        super.init()
        try packLinearWeights()
    }

    public override var typeName: String { className }

    /// The stack under ``baseModelName``, then `lm_head`.
    public override var namedChildren: [(name: String, module: Module)] {
        [(baseModelName, baseModel), ("lm_head", lm_head)]
    }

    public func finalLogits(_ logits: Tensor) throws -> Tensor {
        try softcapped(logits, cap: finalLogitSoftcap)
    }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try languageModelForward(input, context)
    }
}
