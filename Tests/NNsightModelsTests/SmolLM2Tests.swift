import Foundation
import NNsightNN
import Testing
import NNsightTorch
@testable import NNsightModels

/// The default model, SmolLM2-135M-Instruct from its Q4_1 GGUF, against transformers' own GGUF
/// loading (dequantized to float32). Loaded once for the suite (about 5 s in a debug build).
@Suite(.serialized) struct SmolLM2Tests {
    /// Shared by the suite's tests, which run one at a time.
    nonisolated(unsafe) static let loaded: Result<LoadedModel, any Error> = Result {
        try Torch.setNumThreads(1)
        return try NNsightModels.load(path: Fixtures.smolLM2Path)
    }

    let loaded: LoadedModel
    let smol: Fixtures.Smol

    init() throws {
        try Torch.setNumThreads(1)
        loaded = try Self.loaded.get()
        smol = try Fixtures.smol()
    }

    @Test func tokenizerMatchesFixtureIds() throws {
        let tokenizer = try #require(loaded.tokenizer)
        for prompt in smol.prompts {
            #expect(tokenizer.encode(prompt.prompt).ids == prompt.input_ids, "\(prompt.prompt)")
        }
    }

    @Test func lastLogitsMatchTransformers() throws {
        #expect(smol.prompts.count == 3)
        for prompt in smol.prompts {
            let logits = try Torch.noGrad { try loaded.model(idsTensor([prompt.input_ids]), ForwardContext()) }
            let last = try logits.select(dim: 1, index: -1).squeeze(dim: 0)
            let difference = try maxAbsDifference(last, prompt.last_logits.tensor(relativeTo: Fixtures.root))
            #expect(difference <= 1e-3, "\"\(prompt.prompt)\": max |Δ| \(difference)")
        }
    }

    @Test func greedyTwentyTokensMatchTransformers() throws {
        for prompt in smol.prompts {
            let output = try generate(loaded.model, inputIds: idsTensor([prompt.input_ids]),
                                      options: GenerationOptions(maxNewTokens: 20))
            #expect(try newTokens(output, count: 20) == [prompt.greedy_new_ids], "\(prompt.prompt)")
        }
    }

    @Test func greedyWithEOSMatchesTransformers() throws {
        #expect(loaded.eosTokenIds == [2])
        let prompt = smol.prompts[0]
        let output = try generate(loaded.model, inputIds: idsTensor([prompt.input_ids]),
                                  options: GenerationOptions(maxNewTokens: 20, eosTokenIds: loaded.eosTokenIds, padTokenId: 2))
        let count = prompt.greedy_new_ids_until_eos.count
        #expect(output.shape == [1, prompt.input_ids.count + count])
        #expect(try newTokens(output, count: count) == [prompt.greedy_new_ids_until_eos])
    }

    @Test func batchedGreedyMatchesSingle() throws {
        let tokenizer = try #require(loaded.tokenizer)
        let prompts = smol.prompts.map(\.prompt)
        let encoded = prompts.map { tokenizer.encode($0).ids }
        let width = encoded.map(\.count).max()!
        let ids = encoded.map { Array(repeating: 2, count: width - $0.count) + $0 }
        let mask = encoded.map { Array(repeating: 0, count: width - $0.count) + Array(repeating: 1, count: $0.count) }
        let output = try generate(loaded.model, inputIds: idsTensor(ids), attentionMask: idsTensor(mask),
                                  options: GenerationOptions(maxNewTokens: 8))
        #expect(try newTokens(output, count: 8) == smol.prompts.map { Array($0.greedy_new_ids.prefix(8)) })
    }

    @Test func capitalOfFranceIsParis() throws {
        let tokenizer = try #require(loaded.tokenizer)
        let ids = tokenizer.encode("The capital of France is").ids
        let output = try generate(loaded.model, inputIds: Tensor(ids, shape: [1, ids.count]),
                                  options: GenerationOptions(maxNewTokens: 4))
        let text = tokenizer.decode(try newTokens(output, count: 4)[0])
        #expect(text.hasPrefix(" Paris"), "\(text)")
    }
}
