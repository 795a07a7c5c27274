import NNsightTorch

/// The logit lens of one prompt: every decoder block's output, at every position, decoded through
/// the final norm and the unembedding; each cell holds the most likely token and its probability.
public struct LogitLens: Sendable, Equatable {
    /// The most likely token of one layer at one position.
    public struct Cell: Sendable, Equatable {
        public var tokenId: Int
        public var token: String
        public var probability: Double

        public init(tokenId: Int, token: String, probability: Double) {
            self.tokenId = tokenId
            self.token = token
            self.probability = probability
        }
    }

    /// The prompt's token ids and each token decoded alone.
    public var promptIds: [Int]
    public var promptTokens: [String]
    /// The decoder blocks read, by dotted path (`model.layers.0`, …), one per row of `cells`.
    public var layerNames: [String]
    /// `cells[layer][position]`.
    public var cells: [[Cell]]

    public init(promptIds: [Int], promptTokens: [String], layerNames: [String], cells: [[Cell]]) {
        self.promptIds = promptIds
        self.promptTokens = promptTokens
        self.layerNames = layerNames
        self.cells = cells
    }
}

extension LanguageModel {
    /// The logit lens of `prompt` over every decoder block (or `layers`), in one trace.
    ///
    /// Python nnsight:
    /// ```python
    /// with model.trace(prompt):
    ///     probs = [model.lm_head(model.model.norm(layer.output[0])).softmax(-1).save() for layer in model.model.layers]
    /// ```
    public func logitLens(_ prompt: String, layers: Range<Int>? = nil) throws -> LogitLens {
        let (ids, texts) = try promptTokens(prompt)
        let blocks = try decoderLayersPath(), norm = try finalNormPath(), unembedding = unembeddingPath()
        let count = try decoderLayerCount()
        let range = layers ?? 0..<count
        guard range.lowerBound >= 0, range.upperBound <= count, !range.isEmpty else {
            throw NNsightError.invalidInput("layers \(range) out of range: the model has \(count) decoder blocks (0..<\(count))")
        }
        let tokenizer = self.tokenizer
        let cells = try trace(prompt) { m in
            try range.map { layer -> [LogitLens.Cell] in
                let hidden = try m.get("\(blocks).\(layer)").output
                let probabilities = try m.get(unembedding)(try m.get(norm)(hidden))[0].to(.float32).softmax(dim: -1)
                let (values, indices) = try probabilities.topk(1, dim: -1)
                return zip(try indices.toArray(Int.self), try values.toArray(Double.self)).map { id, p in
                    LogitLens.Cell(tokenId: id, token: tokenizer.decode([id]), probability: p)
                }
            }
        }
        return LogitLens(promptIds: ids, promptTokens: texts, layerNames: range.map { "\(blocks).\($0)" }, cells: cells)
    }
}
