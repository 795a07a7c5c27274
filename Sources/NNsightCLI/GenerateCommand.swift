import ArgumentParser
import Foundation
import NNsight
import NNsightModels
import NNsightVisualization

/// `nnsight generate`: generation with each token shown as it is produced, with its probability.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text, streaming each token as it comes, and show each token's probability.")

    @OptionGroup var options: ModelOptions
    @OptionGroup var output: PictureOptions

    @Option(help: "The prompt.")
    var prompt = "The capital of France is"

    @Option(help: "How many new tokens at most.")
    var maxNewTokens = 20

    @Option(help: "Sampling temperature (0: greedy).")
    var temperature = 0.0

    @Option(help: "Seed of the sampler, for a repeatable sampled generation.")
    var seed: UInt64?

    func run() throws {
        guard maxNewTokens > 0 else { throw ValidationError("--max-new-tokens must be at least 1") }
        let model = try options.load()
        // The stream: each token printed as the model produces it (the tokens are the progress;
        // a progress line would overwrite them).
        print(prompt, terminator: "")
        fflush(nil)
        let generation = try model.generateWithProbabilities(
            prompt, maxNewTokens: maxNewTokens, sampling: SamplingOptions(temperature: temperature, seed: seed)
        ) { generation in
            print(generation.tokens.last?.text ?? "", terminator: "")
            fflush(nil)
        }
        print("\n\nEach new token's probability:")
        for token in generation.tokens {
            let alternatives = token.alternatives.prefix(3).map { "\"\(Printed.token($0.text))\" \(Printed.probability($0.probability))" }
            print("  \(String(format: "%3d", token.step))  \(column("\"\(Printed.token(token.text))\"", 16)) \(Printed.probability(token.probability))   top: \(alternatives.joined(separator: ", "))")
        }
        try output.write(GenerationPicture(generation), subtitle: "\(options.model): \"\(prompt)\"")
    }
}
