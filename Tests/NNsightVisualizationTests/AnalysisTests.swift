import Foundation
import NNsight
import NNsightModels
import NNsightTorch
import Synchronization
import Testing

/// The computations the pictures draw, checked against facts that hold for any causal model.
@Suite struct AnalysisTests {
    @Test(arguments: ["tiny-gpt2", "tiny-llama", "tiny-qwen2", "tiny-gpt-neox"])
    func logitLensOfTheLastLayerIsTheModelsPrediction(_ family: String) throws {
        let model = try Tiny.load(family)
        let prompt = "The cat sat on the mat"
        let lens = try model.logitLens(prompt)
        #expect(lens.layerNames.count == model.network.layerCount)
        #expect(lens.layerNames.first == "\(try model.decoderLayersPath()).0")
        let probabilities = try model.trace(prompt) { m in try m.get(model.unembeddingPath()).output[0].softmax(dim: -1) }
        let (values, ids) = try probabilities.max(dim: -1)
        let top = try ids.toArray(Int.self), topP = try values.toArray(Double.self)
        #expect(lens.cells.last?.map(\.tokenId) == top)
        for (cell, p) in zip(lens.cells.last ?? [], topP) { #expect(abs(cell.probability - p) < 1e-5) }
        #expect(lens.promptIds == (try model.tokenRows(prompt)[0]))
    }

    @Test func patchingTheLastLayerAtTheLastPositionGivesTheSourceBaseline() throws {
        let model = try Tiny.load()
        let sweep = try model.patchingSweep(source: "The capital of France is", target: "The cat sat on the mat")
        let last = try #require(sweep.values.last)
        // The last position's logits depend on the last block only through its last position.
        #expect(abs(last[last.count - 1] - sweep.sourceBaseline) < 1e-4)
        for value in last.dropLast() { #expect(abs(value - sweep.targetBaseline) < 1e-4) }
        #expect(sweep.sourceBaseline != sweep.targetBaseline)
        #expect(throws: NNsightError.self) {
            try model.patchingSweep(source: "The capital of France is", target: "Hello")
        }
    }

    @Test func streamerReceivesEachTokenOfTheGeneration() async throws {
        let model = try Tiny.load()
        let received = Mutex<[StreamedToken]>([])
        let finished = Mutex(0)
        let ids = try model.generate("Hello", maxNewTokens: 6, streamer: CallbackStreamer(onFinish: { finished.withLock { $0 += 1 } }) { tokens in
            received.withLock { $0 += tokens }
        }) { _, t in try t.result() }
        let newIds = Array(try ids[0].toArray(Int.self).dropFirst(try model.tokenRows("Hello")[0].count))
        let tokens = received.withLock { $0 }
        #expect(tokens.map(\.id) == newIds)
        #expect(tokens.map(\.step) == Array(0..<newIds.count))
        #expect(finished.withLock { $0 } == 1)
        for token in tokens {
            // Greedy: the chosen token is the most likely one.
            #expect(token.alternatives.first?.id == token.id)
            #expect(token.alternatives.first?.probability == token.probability)
            #expect(token.text == model.tokenizer.decode([token.id]))
        }

        let stream = TokenStream()
        let collected = Task { var all: [Int] = []; for await token in stream { all.append(token.id) }; return all }
        _ = try model.generate("Hello", maxNewTokens: 6, streamer: stream) { _, t in try t.result() }
        #expect(await collected.value == newIds)
    }

    @Test func generationProbabilitiesAreTheSoftmaxOfEachStep() throws {
        let model = try Tiny.load()
        let generation = try model.generateWithProbabilities("Hello", maxNewTokens: 3)
        #expect(generation.tokens.count == 3)
        // Step 0's token and probability from a plain trace of the prompt.
        let probabilities = try model.trace("Hello") { m in try m.lm_head.output[0, -1].softmax(dim: -1) }
        let first = try #require(generation.tokens.first)
        #expect(try probabilities.argmax().item(Int.self) == first.id)
        #expect(abs(try probabilities.max().item(Double.self) - first.probability) < 1e-5)
    }

    @Test func attentionProbabilitiesAreCausalSoftmaxRows() throws {
        let model = try Tiny.load()
        let attention = try model.attentionProbabilities("The cat sat on the mat", layer: 1)
        let n = attention.promptTokens.count
        #expect(attention.layerName == "transformer.h.1.attn")
        #expect(attention.probabilities.count == 4)            // n_head of the tiny GPT-2
        for head in attention.probabilities {
            #expect(head.count == n)
            for (q, row) in head.enumerated() {
                #expect(row.count == n)
                #expect(abs(row.reduce(0, +) - 1) < 1e-5)
                #expect(row[(q + 1)...].allSatisfy { $0 == 0 })   // no query sees a later key
            }
        }
        #expect(throws: NNsightError.self) { try model.attentionProbabilities("Hello", layer: 2) }
    }
}
