import Foundation
import NNsightNN
import NNsightTorch

/// Keys and values of the tokens seen so far, per layer, so that each decoding step computes
/// attention for the new tokens only. Python: `DynamicCache`, whose sliding-window layers are
/// `DynamicSlidingWindowLayer`s.
///
/// A layer with a sliding window `w` (``windows``) keeps only the keys and values of its last
/// `w − 1` tokens: every later query sees at most its own key and the `w − 1` before it, so the
/// dropped ones can never be attended to again, and the memory a long generation holds per
/// sliding layer stays bounded by the window. An update still returns all the keys the current
/// call's queries need (those kept plus the new ones: a prefill longer than the window attends
/// over all of its own keys), and the model's sliding-window mask covers exactly those columns
/// (``cachedKeyCount(window:)``).
public final class KVCache: KeyValueCache {
    private struct Layers {
        var keys: [Tensor?]
        var values: [Tensor?]
        /// Tokens each layer has seen (its keys kept, plus those its window dropped).
        var seen: [Int]
    }

    /// Each layer's sliding window (how many of the latest tokens its queries see); nil for a layer
    /// that keeps every key.
    public let windows: [Int?]

    /// Sendable by this lock, not by convention: a cache may be handed to another thread
    /// between forward passes (the intervention engine's worker and model threads). An `NSLock`,
    /// not a `Synchronization.Mutex`: ThreadSanitizer does not model a contended `Mutex`'s futex
    /// handoff on Linux (it reports the locked accesses as races).
    private let lock = NSLock()
    /// Guarded by `lock`.
    nonisolated(unsafe) private var layers: Layers

    /// A cache for `count` layers that all keep every key.
    public convenience init(layers count: Int) {
        self.init(windows: Array(repeating: nil, count: count))
    }

    /// A cache whose layer `i` keeps the last `windows[i] − 1` tokens, or all when nil (a
    /// model's ``DecoderStack/layerWindows``; ``DecoderLanguageModel/makeCache()`` makes this one).
    public init(windows: [Int?]) {
        self.windows = windows
        let count = windows.count
        layers = Layers(keys: Array(repeating: nil, count: count), values: Array(repeating: nil, count: count),
                        seen: Array(repeating: 0, count: count))
    }

    /// The number of tokens seen (by the first layer), cached or dropped from a window.
    public var length: Int {
        lock.withLock { layers.seen.first ?? 0 }
    }

    /// How many cached keys a layer sliding over `window` tokens holds: at most `window − 1`
    /// where this cache trims such layers, else every token seen.
    public func cachedKeyCount(window: Int) -> Int {
        let seen = length
        return windows.contains(window) ? min(seen, max(window - 1, 0)) : seen
    }

    /// The keys and values cached for `layer` (nil before its first update).
    /// Python: `cache.layers[layer].keys`, `.values`.
    public func entries(layer: Int) -> (keys: Tensor, values: Tensor)? {
        lock.withLock {
            guard layers.keys.indices.contains(layer), let keys = layers.keys[layer], let values = layers.values[layer] else {
                return nil
            }
            return (keys, values)
        }
    }

    /// Appends the new keys and values `[batch, heads, new, headDim]` of `layer`; returns the keys
    /// and values the new tokens attend over: all cached ones and the new ones. A sliding layer
    /// then keeps only the last `window − 1` of them (copied, so the dropped ones are freed).
    public func update(layer: Int, keys newKeys: Tensor, values newValues: Tensor) throws -> (keys: Tensor, values: Tensor) {
        try lock.withLock {
            guard layers.keys.indices.contains(layer) else {
                throw ModelError.invalidInput("KV cache has \(layers.keys.count) layers; layer \(layer) does not exist")
            }
            let allKeys = try layers.keys[layer].map { try Tensor.cat([$0, newKeys], dim: -2) } ?? newKeys
            let allValues = try layers.values[layer].map { try Tensor.cat([$0, newValues], dim: -2) } ?? newValues
            layers.seen[layer] += try newKeys.size(-2)
            let count = try allKeys.size(-2), keep = max((windows[layer] ?? count) - 1, 0)
            if windows[layer] != nil, count > keep {
                layers.keys[layer] = try allKeys.narrow(dim: -2, start: count - keep, length: keep).clone()
                layers.values[layer] = try allValues.narrow(dim: -2, start: count - keep, length: keep).clone()
            } else {
                layers.keys[layer] = allKeys
                layers.values[layer] = allValues
            }
            return (allKeys, allValues)
        }
    }
}
