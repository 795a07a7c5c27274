import Foundation
import NNsightNN
import Testing
import NNsightTorch
@testable import NNsightModels

/// Sampling and stopping of `generate`, on the tiny Llama (greedy ids from the fixtures).
@Suite struct GenerationTests {
    let model: any CausalLanguageModel
    let batch: Fixtures.Batch
    let ids: Tensor
    let mask: Tensor

    init() throws {
        try Torch.setNumThreads(1)
        model = try NNsightModels.load(path: Fixtures.path("tiny-llama")).model
        batch = Fixtures.model("tiny-llama").batch
        ids = try idsTensor(batch.input_ids)
        mask = try idsTensor(batch.attention_mask)
    }

    func sample(_ sampling: SamplingOptions, maxNewTokens: Int = 12,
                observer: GenerationObserver = GenerationObserver()) throws -> [[Int]] {
        let output = try generate(model, inputIds: ids, attentionMask: mask,
                                  options: GenerationOptions(maxNewTokens: maxNewTokens, sampling: sampling), observer: observer)
        return try newTokens(output, count: maxNewTokens)
    }

    @Test func seededSamplingIsReproducible() throws {
        let first = try sample(SamplingOptions(temperature: 1, seed: 7))
        let again = try sample(SamplingOptions(temperature: 1, seed: 7))
        let other = try sample(SamplingOptions(temperature: 1, seed: 8))
        #expect(first == again)
        #expect(first != other)
        #expect(first != batch.greedy_new_ids, "sampling at temperature 1 drew exactly the greedy tokens")
    }

    @Test func topKOneIsGreedy() throws {
        #expect(try sample(SamplingOptions(temperature: 1, topK: 1, seed: 3)) == batch.greedy_new_ids)
        #expect(try sample(SamplingOptions(temperature: 0.7, topK: 1, seed: 4)) == batch.greedy_new_ids)
    }

    @Test func tinyTopPIsGreedy() throws {
        #expect(try sample(SamplingOptions(temperature: 1, topP: 1e-6, seed: 5)) == batch.greedy_new_ids)
    }

    /// Every drawn token is among the k most likely of its step's logits.
    @Test func topKDrawsOnlyFromTheKMostLikely() throws {
        let k = 3
        var checked = 0
        let observer = GenerationObserver(stepDidEnd: { _, logits, tokens in
            let last = try logits.select(dim: 1, index: logits.size(1) - 1)
            let allowed = try rows(last.topk(k, dim: -1).indices)
            for (row, token) in try tokens.toArray(Int.self).enumerated() {
                #expect(allowed[row].contains(token), "token \(token) not in top-\(k) \(allowed[row])")
                checked += 1
            }
        })
        let drawn = try sample(SamplingOptions(temperature: 1, topK: k, seed: 11), observer: observer)
        #expect(checked == 3 * 12)
        #expect(drawn != batch.greedy_new_ids, "top-\(k) sampling drew only greedy tokens")
    }

    /// Every drawn token lies in the nucleus: the most likely tokens whose probabilities before it
    /// sum to less than p.
    @Test func topPDrawsOnlyFromTheNucleus() throws {
        let p = 0.5
        var checked = 0
        let observer = GenerationObserver(stepDidEnd: { _, logits, tokens in
            let last = try logits.select(dim: 1, index: logits.size(1) - 1).to(.float64)
            let sorted = try last.sort(dim: -1, descending: true)
            let probabilities = try rows((sorted.values.softmax(dim: -1) * 1e9).to(.int64))
            let order = try rows(sorted.indices)
            for (row, token) in try tokens.toArray(Int.self).enumerated() {
                let rank = try #require(order[row].firstIndex(of: token))
                let before = probabilities[row].prefix(rank).reduce(0, +)
                #expect(Double(before) / 1e9 < p + 1e-6, "token \(token) at rank \(rank) is outside the top-p \(p) nucleus")
                checked += 1
            }
        })
        _ = try sample(SamplingOptions(temperature: 1, topP: p, seed: 13), observer: observer)
        #expect(checked == 3 * 12)
    }

    /// With an EOS token that greedy decoding produces, each row stops at its first EOS and is
    /// padded after it; generation ends once every row has stopped.
    @Test func eosStopsRowsAndPads() throws {
        let greedy = batch.greedy_new_ids
        // A token the first row produces at step 2, where the others' first occurrence (if any) differs.
        let eos = greedy[0][2]
        let pad = 511
        #expect(!greedy.contains { $0.contains(pad) })
        let output = try generate(model, inputIds: ids, attentionMask: mask,
                                  options: GenerationOptions(maxNewTokens: 12, eosTokenIds: [eos], padTokenId: pad))
        let stops = greedy.map { $0.firstIndex(of: eos) }
        let steps = stops.contains(nil) ? 12 : stops.map { $0! + 1 }.max()!
        #expect(output.shape == [3, batch.input_ids[0].count + steps])
        let generated = try newTokens(output, count: steps)
        for (row, stop) in stops.enumerated() {
            let expected = (0..<steps).map { step in stop.map { step > $0 ? pad : greedy[row][step] } ?? greedy[row][step] }
            #expect(generated[row] == expected, "row \(row) (EOS at \(String(describing: stop)))")
        }
        #expect(stops[0] == 2)
    }

    @Test func everyRowStoppingEndsGeneration() throws {
        let single = Fixtures.model("tiny-llama").single[1]
        let eos = single.greedy_new_ids[4]
        let stop = single.greedy_new_ids.firstIndex(of: eos)!
        let output = try generate(model, inputIds: idsTensor([single.input_ids]),
                                  options: GenerationOptions(maxNewTokens: 12, eosTokenIds: [eos]))
        #expect(try newTokens(output, count: stop + 1) == [Array(single.greedy_new_ids.prefix(stop + 1))])
        #expect(output.shape == [1, single.input_ids.count + stop + 1])
    }

    @Test func observerSeesEachStep() throws {
        var began: [Int] = [], ended: [Int] = []
        var shapes: [[Int]] = []
        let observer = GenerationObserver(stepWillBegin: { began.append($0) },
                                          stepDidEnd: { step, logits, tokens in
                                              ended.append(step)
                                              shapes.append(logits.shape)
                                              #expect(tokens.shape == [3])
                                          })
        #expect(try sample(.greedy, maxNewTokens: 4, observer: observer) == batch.greedy_new_ids.map { Array($0.prefix(4)) })
        #expect(began == [0, 1, 2, 3])
        #expect(ended == [0, 1, 2, 3])
        // Only the last position's logits, as transformers' generate (logits_to_keep=1).
        #expect(shapes == [[3, 1, 512], [3, 1, 512], [3, 1, 512], [3, 1, 512]])
    }

    @Test func rejectsBadInput() throws {
        #expect(throws: ModelError.self) {
            try generate(model, inputIds: Tensor([1, 2, 3]), options: GenerationOptions(maxNewTokens: 2))
        }
        #expect(throws: ModelError.self) {
            _ = try model(ids, ForwardContext(attentionMask: try Tensor.ones([3, 4], dtype: .int64)))
        }
        #expect(throws: ModelError.self) {
            _ = try model(Tensor.zeros([1, 129], dtype: .int64), ForwardContext())
        }
    }
}
