extension LanguageModel {
    /// The dotted path of the decoder blocks: `model.layers` (Llama, Mistral, Qwen2) or
    /// `transformer.h` (GPT-2).
    public func decoderLayersPath() throws -> String {
        for candidate in ["model.layers", "transformer.h"] where (try? root.get(candidate)) != nil { return candidate }
        throw NNsightError.invalidInput("cannot find the decoder blocks (model.layers or transformer.h) of \(checkpoint.architecture)")
    }

    /// The dotted path of the final norm before the unembedding: `model.norm` or `transformer.ln_f`.
    public func finalNormPath() throws -> String {
        for candidate in ["model.norm", "transformer.ln_f"] where (try? root.get(candidate)) != nil { return candidate }
        throw NNsightError.invalidInput("cannot find the final norm (model.norm or transformer.ln_f) of \(checkpoint.architecture)")
    }

    /// How many decoder blocks the model has.
    public func decoderLayerCount() throws -> Int { try root.get(decoderLayersPath()).count }

    /// The prompt's tokens (one row), each decoded alone.
    public func promptTokens(_ prompt: String) throws -> (ids: [Int], texts: [String]) {
        let ids = try tokenRows(prompt)[0]
        return (ids, ids.map { tokenizer.decode([$0]) })
    }
}
