import Foundation
import NN
import Tokenizers
import Torch

/// A model read from disk, with what came with it.
public struct LoadedModel {
    /// The network, in eval mode, on the CPU, in the requested dtype.
    public let model: any CausalLanguageModel
    /// The tokenizer of the checkpoint (tokenizer.json, or the GGUF vocabulary), if it has one.
    public let tokenizer: Tokenizer?
    /// The `model_type` (`gpt2`, `llama`, `mistral`, `qwen2`).
    public let architecture: String
    /// Tokens that end generation.
    public let eosTokenIds: [Int]
    /// Where it was loaded from.
    public let path: String
}

/// Loads a checkpoint: a Hugging Face folder (`config.json`, `*.safetensors` or a sharded
/// `model.safetensors.index.json`, `tokenizer.json`) or a GGUF file (or a folder holding one).
/// The architecture comes from `config.json`'s `model_type` (or the GGUF's
/// `general.architecture`). Python: `AutoModelForCausalLM.from_pretrained(path)`.
///
/// Weights are viewed in place in the memory-mapped file where their dtype is kept (no second
/// copy); GGUF tensors are dequantized straight into their tensors.
public func load(path: String, dtype: DType = .float32) throws -> LoadedModel {
    try Torch.checkRuntime()
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw ModelError.missingFile(path)
    }
    if !isDirectory.boolValue {
        guard path.hasSuffix(".gguf") else {
            throw ModelError.invalidInput("\(path) is neither a checkpoint folder nor a .gguf file")
        }
        return try loadGGUF(path: path, dtype: dtype)
    }
    let folder = URL(fileURLWithPath: path)
    if !FileManager.default.fileExists(atPath: folder.appendingPathComponent("config.json").path) {
        let ggufs = (try? FileManager.default.contentsOfDirectory(atPath: path))?.filter { $0.hasSuffix(".gguf") } ?? []
        if ggufs.count == 1 { return try loadGGUF(path: folder.appendingPathComponent(ggufs[0]).path, dtype: dtype) }
        throw ModelError.missingFile(folder.appendingPathComponent("config.json").path)
    }
    return try loadSafeTensorsFolder(folder, dtype: dtype)
}

/// Builds an architecture on the meta device from a `config.json` (no weights): for inspecting
/// a model's structure and shapes before loading it.
public func makeModel(configData: Data, device: Device = .meta) throws -> (model: any CausalLanguageModel, architecture: String, eosTokenIds: [Int]) {
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
            let config = try JSONDecoder().decode(GPT2Config.self, from: configData)
            return (try GPT2LMHeadModel(config, device: device), type, config.eosTokenId.map { [$0] } ?? [])
        case "llama", "mistral", "qwen2":
            let config = try JSONDecoder().decode(LlamaConfig.self, from: configData)
            return (try LlamaForCausalLM(config, device: device), type, config.eosTokenIds)
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
