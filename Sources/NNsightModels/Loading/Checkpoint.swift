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

    /// The architecture's configuration.
    enum Configuration {
        case gpt2(GPT2Config)
        case llama(LlamaConfig)
    }

    /// The path as given.
    public let path: String
    public let format: Format
    /// The `model_type` (`gpt2`, `llama`, `mistral`, `qwen2`), from `config.json` or the GGUF's
    /// `general.architecture`.
    public let architecture: String
    /// Tokens that end generation (`eos_token_id`, or the GGUF vocabulary's end-of-sequence token).
    public let eosTokenIds: [Int]
    let configuration: Configuration
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
            let config = try ggufConfiguration(file)
            format = .gguf(file: ggufURL)
            ggufFile = file
            configuration = .llama(config)
            architecture = config.modelType
            eosTokenIds = config.eosTokenIds
        } else {
            let configData = try Data(contentsOf: url.appendingPathComponent("config.json"))
            (configuration, architecture) = try decodeConfiguration(configData)
            format = .safeTensors(folder: url)
            ggufFile = nil
            switch configuration {
            case .gpt2(let config): eosTokenIds = config.eosTokenId.map { [$0] } ?? []
            case .llama(let config): eosTokenIds = config.eosTokenIds
            }
        }
    }

    /// Builds the architecture without reading weights, in eval mode. On the meta device (the
    /// default) parameters are shapes only, until ``loadWeights(into:dtype:)`` fills them.
    public func makeModel(device: Device = .meta) throws -> any CausalLanguageModel {
        let model: any CausalLanguageModel
        switch configuration {
        case .gpt2(let config): model = try GPT2LMHeadModel(config, device: device)
        case .llama(let config): model = try LlamaForCausalLM(config, device: device)
        }
        model.eval()
        return model
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
        try model.load(stateDict: readWeights(for: model, dtype: dtype))
        // After the state dict is gone, so that each plain weight is freed as it is packed.
        try model.packLinearWeights()
    }

    /// The checkpoint's tensors in `dtype` by the names of `model`'s state dict.
    private func readWeights(for model: any CausalLanguageModel, dtype: DType) throws -> [String: Tensor] {
        switch format {
        case .safeTensors(let folder):
            return sanitize(try readSafeTensors(folder: folder, dtype: dtype), for: model)
        case .gguf(let file):
            guard let ggufFile, case .llama(let config) = configuration else { throw ModelError.missingFile(file.path) }
            return try readGGUFTensors(ggufFile, config: config, dtype: dtype)
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
/// a model's structure and shapes before loading it.
public func makeModel(configData: Data, device: Device = .meta) throws -> (model: any CausalLanguageModel, architecture: String, eosTokenIds: [Int]) {
    let (configuration, architecture) = try decodeConfiguration(configData)
    switch configuration {
    case .gpt2(let config):
        return (try GPT2LMHeadModel(config, device: device), architecture, config.eosTokenId.map { [$0] } ?? [])
    case .llama(let config):
        return (try LlamaForCausalLM(config, device: device), architecture, config.eosTokenIds)
    }
}

/// Decodes a `config.json`, choosing the configuration type by `model_type` (or the first of
/// `architectures`).
func decodeConfiguration(_ configData: Data) throws -> (Checkpoint.Configuration, String) {
    struct Header: Decodable {
        let model_type: String?
        let architectures: [String]?
    }
    let header: Header
    do {
        header = try JSONDecoder().decode(Header.self, from: configData)
    } catch {
        throw ModelError.invalidConfig(field: "(file)", reason: "not valid JSON: \(error)")
    }
    let type = header.model_type ?? header.architectures?.first.map { $0.lowercased() } ?? "(none)"
    do {
        switch type {
        case "gpt2":
            return (.gpt2(try JSONDecoder().decode(GPT2Config.self, from: configData)), type)
        case "llama", "mistral", "qwen2":
            return (.llama(try JSONDecoder().decode(LlamaConfig.self, from: configData)), type)
        default:
            throw ModelError.unsupportedArchitecture(type)
        }
    } catch let error as DecodingError {
        throw ModelError.invalidConfig(field: describe(error), reason: "\(error)")
    }
}

private func describe(_ error: DecodingError) -> String {
    switch error {
    case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
         .dataCorrupted(let context):
        return context.codingPath.map(\.stringValue).joined(separator: ".")
    @unknown default:
        return "(unknown)"
    }
}
