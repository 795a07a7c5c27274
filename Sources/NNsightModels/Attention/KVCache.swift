import Foundation
import NNsightNN
import NNsightTorch

/// Keys and values of every token seen so far, per layer, so that each decoding step computes
/// attention for the new tokens only. Python: `DynamicCache`.
///
/// Sliding-window layers keep every key too: their mask (``DecoderState/slidingWindowMask``)
/// hides the keys outside the window, which gives transformers' results exactly.
public final class KVCache: KeyValueCache {
    private struct Layers {
        var keys: [Tensor?]
        var values: [Tensor?]
    }

    /// Sendable by this lock, not by convention: a cache may be handed to another thread
    /// between forward passes (the intervention engine's worker and model threads). An `NSLock`,
    /// not a `Synchronization.Mutex`: ThreadSanitizer does not model a contended `Mutex`'s futex
    /// handoff on Linux (it reports the locked accesses as races).
    private let lock = NSLock()
    /// Guarded by `lock`.
    nonisolated(unsafe) private var layers: Layers

    public init(layers count: Int) {
        layers = Layers(keys: Array(repeating: nil, count: count), values: Array(repeating: nil, count: count))
    }

    /// The number of tokens cached (the length of the first layer's keys).
    public var length: Int {
        lock.withLock { (try? layers.keys.first??.size(-2)) ?? 0 }
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

    /// Appends the new keys and values `[batch, heads, new, headDim]` of `layer`; returns every
    /// key and value so far.
    public func update(layer: Int, keys newKeys: Tensor, values newValues: Tensor) throws -> (keys: Tensor, values: Tensor) {
        try lock.withLock {
            guard layers.keys.indices.contains(layer) else {
                throw ModelError.invalidInput("KV cache has \(layers.keys.count) layers; layer \(layer) does not exist")
            }
            let allKeys = try layers.keys[layer].map { try Tensor.cat([$0, newKeys], dim: -2) } ?? newKeys
            let allValues = try layers.values[layer].map { try Tensor.cat([$0, newValues], dim: -2) } ?? newValues
            layers.keys[layer] = allKeys
            layers.values[layer] = allValues
            return (allKeys, allValues)
        }
    }
}
