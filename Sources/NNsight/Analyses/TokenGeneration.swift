import NNsightModels

/// A generation with the probability of each new token: what the per-token picture shows.
public struct TokenGeneration: Sendable, Equatable {
    /// The prompt's tokens, each decoded alone.
    public var promptTokens: [String]
    /// The new tokens in order (one row), each with its probability and the alternatives.
    public var tokens: [StreamedToken]

    public init(promptTokens: [String], tokens: [StreamedToken]) {
        self.promptTokens = promptTokens
        self.tokens = tokens
    }

    /// The prompt followed by the new tokens, as text.
    public var text: String { (promptTokens + tokens.map(\.text)).joined() }
}

extension LanguageModel {
    /// Generates up to `maxNewTokens` tokens after `prompt` and records each one's probability;
    /// `onToken` sees the generation after each new token (on the model's thread).
    public func generateWithProbabilities(_ prompt: String, maxNewTokens: Int = 20, sampling: SamplingOptions = .greedy,
                                          onToken: @escaping @Sendable (TokenGeneration) -> Void = { _ in }) throws -> TokenGeneration {
        let promptTokens = try promptTokens(prompt).texts
        final class Collector: TokenStreamer, @unchecked Sendable {
            // `@unchecked Sendable`, earned by turn-taking: written only on the model's thread,
            // read after `generate` has returned (its return orders the writes before the read).
            var generation: TokenGeneration
            let onToken: @Sendable (TokenGeneration) -> Void
            init(_ generation: TokenGeneration, _ onToken: @escaping @Sendable (TokenGeneration) -> Void) {
                self.generation = generation
                self.onToken = onToken
            }
            func receive(_ tokens: [StreamedToken]) {
                generation.tokens.append(tokens[0])
                onToken(generation)
            }
            func finish() {}
        }
        let collector = Collector(TokenGeneration(promptTokens: promptTokens, tokens: []), onToken)
        try generate(prompt, maxNewTokens: maxNewTokens, sampling: sampling, streamer: collector) { _, _ in }
        return collector.generation
    }
}
