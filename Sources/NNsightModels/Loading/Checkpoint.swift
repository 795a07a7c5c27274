import Foundation
import NNsightGGUF
import NNsightNN
import NNsightTokenizers
import NNsightTorch

/// A checkpoint on disk, opened but not loaded: a Hugging Face folder (`config.json`,
/// `*.safetensors` or a sharded `model.safetensors.index.json`, `tokenizer.json`) or a GGUF file
/// (or a folder holding exactly one `.gguf`).
///
/// Loading happens in two steps, so that a model can be built and inspected (on the meta device)
/// before its weights are read:
///
/// ```swift
/// let checkpoint = try Checkpoint(path: "models/gpt2")
/// let model = try checkpoint.makeModel()                       // meta tensors, no weights
/// try checkpoint.loadWeights(into: model, dtype: .bfloat16)    // same Module objects, real weights
/// ```
///
/// Python: `AutoConfig.from_pretrained` + `AutoModelForCausalLM.from_config` on the meta device,
/// then `load_state_dict(assign=True)`.
public final class Checkpoint {
    /// Where the weights live.
    public enum Format: Equatable, Sendable {
        /// A Hugging Face folder.
        case safeTensors(folder: URL)
        /// A llama.cpp GGUF file.
        case gguf(file: URL)
    }

    /// The path as given.
    public let path: String
    public let format: Format
    /// The `model_type` of the registry entry that reads it (`gpt2`, `llama`, `mistral`, `qwen2`),
    /// from `config.json` or the GGUF's `general.architecture`.
    public var architecture: String { configuration.modelType }
    /// Tokens that end generation (`eos_token_id`, or the GGUF vocabulary's end-of-sequence token).
    public var eosTokenIds: [Int] { configuration.config.eosTokenIds }
    /// The validated configuration and its registry family.
    public let configuration: ModelConfiguration
    /// The open GGUF file (memory-mapped), for GGUF checkpoints.
    private let ggufFile: GGUFFile?

    /// Opens the checkpoint at `path` and reads its configuration (not its weights).
    public init(path: String) throws {
        try Torch.checkRuntime()
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelError.missingFile(path)
        }
        let url = URL(fileURLWithPath: path)
        var ggufURL: URL?
        if !isDirectory.boolValue {
            guard path.hasSuffix(".gguf") else {
                throw ModelError.invalidInput("\(path) is neither a checkpoint folder nor a .gguf file")
            }
            ggufURL = url
        } else if !FileManager.default.fileExists(atPath: url.appendingPathComponent("config.json").path) {
            let ggufs = (try? FileManager.default.contentsOfDirectory(atPath: path))?.filter { $0.hasSuffix(".gguf") } ?? []
            guard ggufs.count == 1 else { throw ModelError.missingFile(url.appendingPathComponent("config.json").path) }
            ggufURL = url.appendingPathComponent(ggufs[0])
        }
        if let ggufURL {
            let file = try GGUFFile(contentsOf: ggufURL)
            configuration = try ModelConfiguration(gguf: file)
            format = .gguf(file: ggufURL)
            ggufFile = file
        } else {
            let configData = try Data(contentsOf: url.appendingPathComponent("config.json"))
            configuration = try ModelConfiguration(configData: configData)
            format = .safeTensors(folder: url)
            ggufFile = nil
        }
        // nnterp's load-time check, on the meta device: shapes only, nothing computed.
        try standardNames.verify(configuration.makeModel(device: .meta))
    }

    /// Where this family's modules sit under the standard names; pass `standardNames.rename`
    /// as the engine's `rename:` so that `layers`, `self_attn`, `mlp`, `ln_final`, `lm_head` and
    /// `embed_tokens` work on every family.
    public var standardNames: StandardNames { configuration.family.standardNames }

    /// The family's tokenizer defaults.
    public var tokenizerDefaults: TokenizerDefaults { configuration.family.tokenizerDefaults }

    /// The token that fills padded positions: the tokenizer's (if given), else the config's
    /// `pad_token_id`, else the family's default (the first end-of-sequence token, or 0).
    public func padTokenId(tokenizer: Tokenizer?) -> Int {
        if let id = tokenizer?.padding?.padId { return id }
        if let id = configuration.config.padTokenId { return id }
        switch tokenizerDefaults.padToken {
        case .endOfSequence: return eosTokenIds.first ?? 0
        case .id(let id): return id
        }
    }

    /// Builds the architecture without reading weights, in eval mode. On the meta device (the
    /// default) parameters are shapes only, until ``loadWeights(into:dtype:)`` fills them.
    public func makeModel(device: Device = .meta) throws -> any CausalLanguageModel {
        try configuration.makeModel(device: device)
    }

    /// Replaces every parameter of `model` (made by ``makeModel(device:)``) with the checkpoint's
    /// weights in `dtype` (floating-point tensors only), on the CPU. The `Module` objects stay the
    /// same. Safetensors weights already in `dtype` view the memory-mapped file (no copy); others
    /// are converted one tensor at a time. Linear weights are then held packed
    /// (`packLinearWeights()`).
    ///
    /// Throws ``ModelError/missingFile(_:)`` when the weights file is absent and
    /// `ModuleError.stateDictMismatch` naming every missing, unexpected or misshapen tensor (the
    /// model is then unchanged).
    public func loadWeights(into model: any CausalLanguageModel, dtype: DType = .float32) throws {
        try checkFitsInMemory(parameters: configuration.config.parameterCountEstimate, bytesPerParameter: dtype.byteCount,
                              device: .cpu, field: configuration.config.sizeField)
        try model.load(stateDict: readWeights(for: model, dtype: dtype))
        // After the state dict is gone, so that each plain weight is freed as it is packed.
        try model.packLinearWeights()
    }

    /// The checkpoint's tensors in `dtype` by the names of `model`'s state dict.
    private func readWeights(for model: any CausalLanguageModel, dtype: DType) throws -> [String: Tensor] {
        switch format {
        case .safeTensors(let folder):
            return try modelWeights(readSafeTensors(folder: folder, dtype: dtype), configuration: configuration)
        case .gguf(let file):
            guard let ggufFile else { throw ModelError.missingFile(file.path) }
            return try configuration.family.ggufWeights(ggufFile, config: configuration.config, dtype: dtype)
        }
    }

    /// The checkpoint's tokenizer: `tokenizer.json` of a folder (nil if it has none), or the GGUF
    /// vocabulary; with the chat template of `tokenizer_config.json` or `tokenizer.chat_template`.
    public func tokenizer() throws -> Tokenizer? {
        switch format {
        case .safeTensors(let folder):
            let url = folder.appendingPathComponent("tokenizer.json")
            return FileManager.default.fileExists(atPath: url.path) ? try Tokenizer(folder: folder) : nil
        case .gguf:
            guard let ggufFile else { return nil }
            return try ggufTokenizer(ggufFile)
        }
    }
}

/// Loads a checkpoint: a Hugging Face folder (`config.json`, `*.safetensors` or a sharded
/// `model.safetensors.index.json`, `tokenizer.json`) or a GGUF file (or a folder holding one).
/// The architecture comes from `config.json`'s `model_type` (or the GGUF's
/// `general.architecture`). Python: `AutoModelForCausalLM.from_pretrained(path)`.
///
/// Weights are viewed in place in the memory-mapped file where their dtype is kept (no second
/// copy); GGUF tensors are dequantized straight into their tensors. Compute runs in `dtype`.
public func load(path: String, dtype: DType = .float32) throws -> LoadedModel {
    let checkpoint = try Checkpoint(path: path)
    let model = try checkpoint.makeModel()
    try checkpoint.loadWeights(into: model, dtype: dtype)
    return LoadedModel(model: model, tokenizer: try checkpoint.tokenizer(), architecture: checkpoint.architecture,
                       eosTokenIds: checkpoint.eosTokenIds, path: path)
}

/// Builds an architecture on the meta device from a `config.json` (no weights): for inspecting
/// a model's structure and shapes before loading it. The config is validated first.
public func makeModel(configData: Data, device: Device = .meta) throws -> (model: any CausalLanguageModel, architecture: String, eosTokenIds: [Int]) {
    let configuration = try ModelConfiguration(configData: configData)
    return (try configuration.makeModel(device: device), configuration.modelType, configuration.config.eosTokenIds)
}
