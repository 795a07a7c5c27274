import NNsightTorch

/// What an activation-patching sweep measures on the target run's last-position logits.
public enum PatchingMetric: Sendable, Equatable {
    /// `logit(answer) - logit(other)`: positive where the run prefers `answer`.
    case logitDifference(answer: Int, other: Int)
    /// The probability of `token`.
    case probability(of: Int)

    /// The metric of last-position logits `[vocabulary]`.
    func value(_ logits: Tensor) throws -> Double {
        let values = try logits.to(.float32)
        switch self {
        case .logitDifference(let answer, let other):
            return try values.index([answer]).item(Double.self) - values.index([other]).item(Double.self)
        case .probability(let token):
            return try values.softmax(dim: -1).index([token]).item(Double.self)
        }
    }
}

/// An activation-patching sweep: the source prompt's block output at one layer and one position
/// copied into the target prompt's run, for every layer and position, and the metric of the
/// patched run. The two baselines are the metric of the unpatched source and target runs.
public struct PatchingSweep: Sendable, Equatable {
    public var sourceTokens: [String]
    public var targetTokens: [String]
    /// The decoder blocks patched (`model.layers.0`, …), one per row of `values`.
    public var layerNames: [String]
    /// Says what the metric is, e.g. `logit(" Rome") - logit(" Paris")`.
    public var metricName: String
    public var metric: PatchingMetric
    /// The metric of the source run (the "clean" baseline) and of the unpatched target run (the
    /// "corrupted" one).
    public var sourceBaseline: Double
    public var targetBaseline: Double
    /// `values[layer][position]`: the metric with that layer and position patched. Rows are
    /// appended as layers finish, so a partial sweep has fewer rows than `layerNames`.
    public var values: [[Double]]

    public init(sourceTokens: [String], targetTokens: [String], layerNames: [String], metricName: String,
                metric: PatchingMetric, sourceBaseline: Double, targetBaseline: Double, values: [[Double]]) {
        self.sourceTokens = sourceTokens
        self.targetTokens = targetTokens
        self.layerNames = layerNames
        self.metricName = metricName
        self.metric = metric
        self.sourceBaseline = sourceBaseline
        self.targetBaseline = targetBaseline
        self.values = values
    }

    /// True once every layer has its row.
    public var isComplete: Bool { values.count == layerNames.count }
}

extension LanguageModel {
    /// The default metric for patching `source` into `target`: the logit difference between the
    /// source run's top next token and the target run's (the probability of the source's top
    /// token when both runs predict the same one).
    public func defaultPatchingMetric(source: String, target: String) throws -> PatchingMetric {
        let unembedding = unembeddingPath()
        let sourceTop = try trace(source) { m in try m.get(unembedding).output[0, -1].argmax().item(Int.self) }
        let targetTop = try trace(target) { m in try m.get(unembedding).output[0, -1].argmax().item(Int.self) }
        return sourceTop == targetTop ? .probability(of: sourceTop) : .logitDifference(answer: sourceTop, other: targetTop)
    }

    /// The metric's name with its tokens decoded.
    public func describe(_ metric: PatchingMetric) -> String {
        switch metric {
        case .logitDifference(let answer, let other):
            return "logit(\(quoted(answer))) - logit(\(quoted(other)))"
        case .probability(let token):
            return "P(\(quoted(token)))"
        }
    }

    private func quoted(_ id: Int) -> String { "\"\(tokenizer.decode([id]))\"" }

    /// Patches the source prompt's block output into the target prompt's run at every layer (or
    /// `layers`) and every position, and measures `metric`. One batched forward pass per layer
    /// (the source and one target row per position); `layerDone` sees the sweep after each layer
    /// and may throw to stop it. The prompts must have the same number of tokens.
    ///
    /// Python nnsight, one layer and position:
    /// ```python
    /// with model.trace() as tracer:
    ///     with tracer.invoke(source): h = model.model.layers[l].output[0][:, p].save()
    ///     with tracer.invoke(target):
    ///         model.model.layers[l].output[0][:, p] = h
    ///         logits = model.lm_head.output[0, -1].save()
    /// ```
    public func patchingSweep(source: String, target: String, metric: PatchingMetric? = nil, layers: Range<Int>? = nil,
                              layerDone: (PatchingSweep) throws -> Void = { _ in }) throws -> PatchingSweep {
        let sourceTokens = try promptTokens(source).texts, targetTokens = try promptTokens(target).texts
        guard sourceTokens.count == targetTokens.count else {
            throw NNsightError.invalidInput(
                "source and target must have the same number of tokens for position-wise patching (source has \(sourceTokens.count), target \(targetTokens.count))")
        }
        let blocks = try decoderLayersPath()
        let count = try decoderLayerCount()
        let range = layers ?? 0..<count
        guard range.lowerBound >= 0, range.upperBound <= count, !range.isEmpty else {
            throw NNsightError.invalidInput("layers \(range) out of range: the model has \(count) decoder blocks (0..<\(count))")
        }
        let metric = try metric ?? defaultPatchingMetric(source: source, target: target)
        let unembedding = unembeddingPath()
        let sourceBaseline = try trace(source) { m in try metric.value(m.get(unembedding).output[0, -1]) }
        let targetBaseline = try trace(target) { m in try metric.value(m.get(unembedding).output[0, -1]) }
        var sweep = PatchingSweep(sourceTokens: sourceTokens, targetTokens: targetTokens,
                                  layerNames: range.map { "\(blocks).\($0)" }, metricName: describe(metric), metric: metric,
                                  sourceBaseline: sourceBaseline, targetBaseline: targetBaseline, values: [])
        final class Row {
            var values: [Double]
            init(values: [Double]) { self.values = values }
        }
        for layer in range {
            let row = Row(values: Array(repeating: .nan, count: targetTokens.count))
            let path = "\(blocks).\(layer)"
            try trace { t in
                var hidden: Tensor!
                try t.invoke(source) { m in hidden = try m.get(path).output.clone() }
                for position in 0..<targetTokens.count {
                    try t.invoke(target) { m in
                        try m.get(path).output[.all, position] = hidden[.all, position]
                        row.values[position] = try metric.value(m.get(unembedding).output[0, -1])
                    }
                }
            }
            sweep.values.append(row.values)
            try layerDone(sweep)
        }
        return sweep
    }
}
