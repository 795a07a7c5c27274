import NNsightNN
import NNsightTorch

/// A decoder-only language model: token ids `[batch, sequence]` in, logits
/// `[batch, sequence, vocabulary]` out, with its named arguments in a `ForwardContext`.
public protocol CausalLanguageModel: Module {
    /// The size of the output distribution.
    var vocabularySize: Int { get }
    /// The number of decoder layers (one KV-cache entry each).
    var layerCount: Int { get }
    /// The largest position the model was trained for.
    var maxPositions: Int { get }
    /// A fresh KV cache for this model (Python: the `Cache` that `generate` makes). Default: a
    /// ``KVCache`` of ``layerCount`` layers; families whose layers cache differently return their own.
    func makeCache() -> any KeyValueCache
}

extension CausalLanguageModel {
    public func makeCache() -> any KeyValueCache { KVCache(layers: layerCount) }
}

/// Errors of model construction, loading and generation, naming what was wrong and where.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// A `model_type` (or GGUF architecture) no registered family reads, with those that are.
    case unsupportedArchitecture(String, supported: [String])
    case invalidConfig(field: String, reason: String)
    /// A family's standard names (``StandardNames``) fail nnterp's load-time check at `module`.
    case standardNameCheck(module: String, reason: String)
    case missingFile(String)
    case malformedCheckpoint(file: String, reason: String)
    case invalidInput(String)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let name, let supported):
            return "unsupported architecture \"\(name)\" (supported: \(supported.joined(separator: ", ")))"
        case .standardNameCheck(let module, let reason):
            return "standard names: \(module): \(reason)"
        case .invalidConfig(let field, let reason):
            return "config.json: \(field): \(reason)"
        case .missingFile(let path):
            return "missing file: \(path)"
        case .malformedCheckpoint(let file, let reason):
            return "\(file): \(reason)"
        case .invalidInput(let reason):
            return reason
        }
    }
}
