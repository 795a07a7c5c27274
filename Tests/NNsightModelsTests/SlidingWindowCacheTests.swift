import Foundation
import NNsightNN
import Testing
import NNsightTorch
@testable import NNsightModels

/// The KV cache of models with sliding-window layers (Mistral, Gemma 2's alternate layers, Phi-3
/// with `sliding_window`, Gemma 3's five local layers to each global one): a sliding layer keeps only the keys its window can still see, and
/// generation past the window stays equal to the full forward pass (itself within 1e-4 of
/// transformers, TinyModelTests) and to transformers' own logits.
@Suite struct SlidingWindowCacheTests {
    static let tolerance = 1e-4
    static let slidingModels = ["tiny-mistral", "tiny-gemma2", "tiny-phi3", "tiny-gemma3"]

    init() throws { try Torch.setNumThreads(1) }

    func load(_ name: String) throws -> any CausalLanguageModel {
        try NNsightModels.load(path: Fixtures.path(name)).model
    }

    func forward(_ model: any CausalLanguageModel, _ ids: Tensor, cache: KVCache? = nil, mask: Tensor? = nil) throws -> Tensor {
        try Torch.noGrad { try model(ids, ForwardContext(attentionMask: mask, cache: cache)) }
    }

    /// The model's own cache, with its layers' windows.
    func windowedCache(_ model: any CausalLanguageModel) throws -> KVCache {
        try #require(model.makeCache() as? KVCache)
    }

    /// `length` token ids spread over the vocabulary (a fixed sequence, longer than any window).
    func longIds(_ model: any CausalLanguageModel, length: Int) throws -> Tensor {
        try idsTensor([(0..<length).map { ($0 * 37 + 11) % model.vocabularySize }])
    }

    /// After `seen` tokens: a sliding layer holds at most `window − 1` keys (never more than its
    /// window), a full layer holds every token.
    func expectBounded(_ cache: KVCache, seen: Int, _ label: String) throws {
        #expect(cache.length == seen, "\(label)")
        for (layer, window) in cache.windows.enumerated() {
            let keys = try #require(cache.entries(layer: layer)).keys
            let held = try keys.size(-2)
            if let window {
                #expect(held == min(seen, window - 1), "\(label) layer \(layer) holds \(held) keys, window \(window)")
            } else {
                #expect(held == seen, "\(label) layer \(layer)")
            }
        }
    }

    @Test(arguments: slidingModels)
    func cacheKnowsTheSlidingLayers(name: String) throws {
        let model = try load(name)
        let windows = try windowedCache(model).windows
        let config = Fixtures.model(name).config
        let window = try #require(config["sliding_window"]?.int)
        let types = config["layer_types"]?.array?.compactMap(\.string)
        let expected: [Int?] = (0..<model.layerCount).map { layer in
            types.map { $0[layer] == "sliding_attention" ? window : nil } ?? window
        }
        #expect(windows == expected)
        #expect(windows.contains(window))
    }

    /// Prefill shorter and longer than the window, then one token at a time far past it: the
    /// same logits as one full forward pass, with every sliding layer's cache bounded.
    @Test(arguments: slidingModels, [1, 7])
    func decodingPastTheWindowEqualsTheFullForward(name: String, prefill: Int) throws {
        let model = try load(name)
        let ids = try longIds(model, length: 30)
        let full = try forward(model, ids)
        let cache = try windowedCache(model)
        var pieces = [try forward(model, ids.narrow(dim: 1, start: 0, length: prefill), cache: cache)]
        try expectBounded(cache, seen: prefill, "\(name) prefill \(prefill)")
        for position in prefill..<30 {
            pieces.append(try forward(model, ids.narrow(dim: 1, start: position, length: 1), cache: cache))
            try expectBounded(cache, seen: position + 1, "\(name) step \(position)")
        }
        #expect(try maxAbsDifference(Tensor.cat(pieces, dim: 1), full) <= Self.tolerance)
    }

    /// Chunks of several new tokens after the window has filled: the mask's columns follow the
    /// kept keys for every query of the chunk.
    @Test(arguments: slidingModels)
    func chunkedDecodingEqualsTheFullForward(name: String) throws {
        let model = try load(name)
        let ids = try longIds(model, length: 26)
        let full = try forward(model, ids)
        let cache = try windowedCache(model)
        var pieces: [Tensor] = [], position = 0
        for chunk in [6, 3, 1, 5, 2, 9] {
            pieces.append(try forward(model, ids.narrow(dim: 1, start: position, length: chunk), cache: cache))
            position += chunk
            try expectBounded(cache, seen: position, "\(name) at \(position)")
        }
        #expect(try maxAbsDifference(Tensor.cat(pieces, dim: 1), full) <= Self.tolerance)
    }

    /// transformers' logits for the fixture prompts (all longer than the window), decoded one
    /// token at a time through the trimmed cache.
    @Test(arguments: slidingModels)
    func decodingMatchesTransformers(name: String) throws {
        let model = try load(name)
        for single in Fixtures.model(name).single where single.input_ids.count > 5 {
            let ids = try idsTensor([single.input_ids])
            let cache = try windowedCache(model)
            var pieces = [try forward(model, ids.narrow(dim: 1, start: 0, length: 2), cache: cache)]
            for position in 2..<single.input_ids.count {
                pieces.append(try forward(model, ids.narrow(dim: 1, start: position, length: 1), cache: cache))
            }
            let incremental = try Tensor.cat(pieces, dim: 1).squeeze(dim: 0)
            #expect(try maxAbsDifference(incremental, single.logits.tensor()) <= Self.tolerance, "\(name) \(single.prompt)")
        }
    }

    /// A left-padded batch decoded through the trimmed cache, the mask growing by one column per
    /// step: the full forward's logits at every real position.
    @Test(arguments: slidingModels)
    func paddedBatchDecodingEqualsTheFullForward(name: String) throws {
        let model = try load(name)
        let batch = Fixtures.model(name).batch
        let ids = try idsTensor(batch.input_ids), mask = try idsTensor(batch.attention_mask)
        let full = try forward(model, ids, mask: mask)
        let cache = try windowedCache(model)
        let prefill = 6, length = batch.input_ids[0].count
        var pieces = [try forward(model, ids.narrow(dim: 1, start: 0, length: prefill), cache: cache,
                                  mask: mask.narrow(dim: 1, start: 0, length: prefill))]
        for position in prefill..<length {
            pieces.append(try forward(model, ids.narrow(dim: 1, start: position, length: 1), cache: cache,
                                      mask: mask.narrow(dim: 1, start: 0, length: position + 1)))
        }
        try expectBounded(cache, seen: length, name)
        let incremental = try Tensor.cat(pieces, dim: 1)
        for (row, maskRow) in batch.attention_mask.enumerated() {
            let first = try #require(maskRow.firstIndex(of: 1))
            let real = { (t: Tensor) in try t.select(dim: 0, index: row).narrow(dim: 0, start: first, length: length - first) }
            #expect(try maxAbsDifference(real(incremental), real(full)) <= Self.tolerance, "\(name) row \(row)")
        }
    }

    /// A cache made without windows keeps every key and gives the same logits (the trimmed one
    /// saves memory, not accuracy).
    @Test func untrimmedCacheKeepsEveryKey() throws {
        let model = try load("tiny-mistral")
        let ids = try longIds(model, length: 12)
        let cache = KVCache(layers: model.layerCount)
        _ = try forward(model, ids, cache: cache)
        #expect(cache.windows.allSatisfy { $0 == nil })
        #expect(try cache.entries(layer: 0)?.keys.size(-2) == 12)
        #expect(cache.cachedKeyCount(window: 4) == 12)
    }
}
