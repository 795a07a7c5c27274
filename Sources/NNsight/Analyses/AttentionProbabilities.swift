import NNsightTorch

/// The attention probabilities of one decoder block over a prompt, per head.
public struct LayerAttention: Sendable, Equatable {
    /// The attention module read (`model.layers.3.self_attn`, `transformer.h.3.attn`).
    public var layerName: String
    /// The prompt's tokens, each decoded alone.
    public var promptTokens: [String]
    /// `probabilities[head][query][key]`: each query's softmax over the keys (0 after the query).
    public var probabilities: [[[Double]]]

    public init(layerName: String, promptTokens: [String], probabilities: [[[Double]]]) {
        self.layerName = layerName
        self.promptTokens = promptTokens
        self.probabilities = probabilities
    }
}

extension LanguageModel {
    /// The attention module of decoder block `layer`, from the family's standard names
    /// (`transformer.h.3.attn`, `model.layers.3.self_attn`).
    public func attentionPath(layer: Int) throws -> String {
        "\(try decoderLayersPath()).\(layer).\(checkpoint.standardNames.selfAttention)"
    }

    /// The attention probabilities of block `layer` over `prompt`, read from the attention's
    /// `.source.pattern_0` (the softmax of the scores, which takes the layer's explicit path).
    ///
    /// Python nnsight (with `attn_implementation="eager"`):
    /// ```python
    /// with model.trace(prompt):
    ///     pattern = model.model.layers[layer].self_attn.source.attention_interface_0.output[1].save()
    /// ```
    public func attentionProbabilities(_ prompt: String, layer: Int) throws -> LayerAttention {
        let texts = try promptTokens(prompt).texts
        let count = try decoderLayerCount()
        guard (0..<count).contains(layer) else {
            throw NNsightError.invalidInput("layer \(layer) out of range: the model has \(count) decoder blocks (0..<\(count))")
        }
        let path = try attentionPath(layer: layer)
        let pattern = try trace(prompt) { m in try m.get(path).source.pattern_0.output[0].to(.float32).contiguous() }
        let heads = try pattern.size(0), n = try pattern.size(1)
        let values = try pattern.toArray(Double.self)
        let probabilities = (0..<heads).map { h in
            (0..<n).map { q in Array(values[(h * n + q) * n..<(h * n + q + 1) * n]) }
        }
        return LayerAttention(layerName: path, promptTokens: texts, probabilities: probabilities)
    }
}
