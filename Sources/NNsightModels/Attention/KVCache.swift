import NNsightTorch

/// Keys and values of the tokens seen so far, per layer, so that each decoding step computes
/// attention for the new tokens only. Python: `DynamicCache`.
public final class KVCache: @unchecked Sendable {
    private var keys: [Tensor?]
    private var values: [Tensor?]

    public init(layers: Int) {
        keys = Array(repeating: nil, count: layers)
        values = Array(repeating: nil, count: layers)
    }

    /// The number of tokens cached (the length of the first layer's keys).
    public var length: Int { (try? keys.first??.size(-2)) ?? 0 }

    /// Appends the new keys and values `[batch, heads, new, headDim]` of `layer`; returns every
    /// key and value so far.
    public func update(layer: Int, keys newKeys: Tensor, values newValues: Tensor) throws -> (keys: Tensor, values: Tensor) {
        guard keys.indices.contains(layer) else {
            throw ModelError.invalidInput("KV cache has \(keys.count) layers; layer \(layer) does not exist")
        }
        let allKeys = try keys[layer].map { try Tensor.cat([$0, newKeys], dim: -2) } ?? newKeys
        let allValues = try values[layer].map { try Tensor.cat([$0, newValues], dim: -2) } ?? newValues
        keys[layer] = allKeys
        values[layer] = allValues
        return (allKeys, allValues)
    }
}
