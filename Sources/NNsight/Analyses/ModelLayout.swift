extension LanguageModel {
    /// The dotted path of the decoder blocks, from the family's standard names (`model.layers`,
    /// `transformer.h`, `gpt_neox.layers`).
    public func decoderLayersPath() throws -> String { checkpoint.standardNames.layers }

    /// The dotted path of the final norm before the unembedding (`model.norm`, `transformer.ln_f`, …).
    public func finalNormPath() throws -> String { checkpoint.standardNames.finalNorm }

    /// The dotted path of the unembedding (`lm_head`, `embed_out`).
    public func unembeddingPath() -> String { checkpoint.standardNames.lmHead }

    /// How many decoder blocks the model has.
    public func decoderLayerCount() throws -> Int { try root.get(decoderLayersPath()).count }

    /// The prompt's tokens (one row), each decoded alone.
    public func promptTokens(_ prompt: String) throws -> (ids: [Int], texts: [String]) {
        let ids = try tokenRows(prompt)[0]
        return (ids, ids.map { tokenizer.decode([$0]) })
    }
}
