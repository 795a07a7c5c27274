import Foundation
import NNsightNN
import NNsightTokenizers
import NNsightTorch

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
