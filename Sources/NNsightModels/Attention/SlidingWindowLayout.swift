/// Which layers of a model attend over a sliding window of recent keys and which over every
/// key. Python: `config.layer_types` with `config.sliding_window` (Mistral, Qwen2, Gemma 2, Phi-3,
/// Mixtral: each family reads its own fields into ``layerTypes``).
public protocol SlidingWindowLayout {
    var numHiddenLayers: Int { get }
    /// Each layer's attention; empty means every layer attends fully.
    var layerTypes: [LlamaConfig.LayerType] { get }
    /// How many of the latest tokens a sliding-window layer attends to (itself included).
    var slidingWindow: Int? { get }
}

extension SlidingWindowLayout {
    /// How layer `index` attends.
    public func layerType(_ index: Int) -> LlamaConfig.LayerType {
        layerTypes.indices.contains(index) ? layerTypes[index] : .fullAttention
    }

    /// Each layer's window: ``slidingWindow`` for a sliding-attention layer, nil for one that sees
    /// every key (``DecoderStack/layerWindows``).
    public var layerWindows: [Int?] {
        (0..<max(numHiddenLayers, 0)).map { layerType($0) == .slidingAttention ? slidingWindow : nil }
    }
}
