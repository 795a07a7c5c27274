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
}

/// The hidden states `[batch, sequence, hidden]` that `lm_head` sees: the last
/// `context.logitsToKeep` positions, or all.
func positionsToKeep(_ hidden: Tensor, _ context: ForwardContext) throws -> Tensor {
    guard let keep = context.logitsToKeep, keep > 0 else { return hidden }
    let length = try hidden.size(1)
    return keep >= length ? hidden : try hidden.narrow(dim: 1, start: length - keep, length: keep)
}

/// Errors of model construction, loading and generation, naming what was wrong and where.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case unsupportedArchitecture(String)
    case invalidConfig(field: String, reason: String)
    case missingFile(String)
    case malformedCheckpoint(file: String, reason: String)
    case invalidInput(String)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let name):
            return "unsupported architecture \"\(name)\" (supported: gpt2, llama, mistral, qwen2)"
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

/// The vocabulary projection `lm_head`: sharing the embedding's weight when tied, else its own.
func languageModelHead(tiedTo embedding: Parameter?, hidden: Int, vocabulary: Int, device: Device) throws -> Linear {
    try embedding.map { Linear(sharing: $0) } ?? Linear(hidden, vocabulary, bias: false, device: device)
}
