/// Attention probabilities of one layer, as a caller computed them: `probabilities[head][query][key]`
/// over the prompt's tokens (each row sums to 1; a causal model's keys after the query are 0).
public struct AttentionPatterns: Sendable, Equatable {
    public var layerName: String
    public var tokens: [String]
    public var probabilities: [[[Double]]]

    /// Checks the shape: every head is `tokens.count × tokens.count`.
    public init(layerName: String, tokens: [String], probabilities: [[[Double]]]) throws {
        for (head, rows) in probabilities.enumerated() {
            guard rows.count == tokens.count, rows.allSatisfy({ $0.count == tokens.count }) else {
                throw VisualizationError.shapeMismatch(
                    "attention head \(head) of \(layerName) is not \(tokens.count) × \(tokens.count) (one row and column per token)")
            }
        }
        self.layerName = layerName
        self.tokens = tokens
        self.probabilities = probabilities
    }
}

import NNsight

extension AttentionPatterns {
    /// The probabilities NNsight read from a layer's attention (``LanguageModel/attentionProbabilities(_:layer:)``).
    public init(_ attention: LayerAttention) throws {
        try self.init(layerName: attention.layerName, tokens: attention.promptTokens, probabilities: attention.probabilities)
    }
}

/// A picture's input that does not fit it.
public enum VisualizationError: Error, Equatable, CustomStringConvertible {
    case shapeMismatch(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let message): return message
        }
    }
}

/// Attention patterns: one query × key heatmap per head (or the chosen heads), queries down,
/// keys across, tokens on both axes, coloured by probability.
///
/// Cells are `<rect class="cell" data-head="H" data-query="Q" data-key="K" data-value="0.412">`,
/// the value as printed; the value is written in the cell too when the cells are large enough.
public struct AttentionPicture: Picture {
    public var patterns: AttentionPatterns
    public var heads: [Int]
    public var title: String

    public init(_ patterns: AttentionPatterns, heads: [Int]? = nil, title: String = "Attention patterns") {
        self.patterns = patterns
        self.heads = heads ?? Array(patterns.probabilities.indices)
        self.title = title
    }

    public func svg() -> String {
        let n = patterns.tokens.count
        let cell = n <= 12 ? 34.0 : max(8, 400.0 / Double(n))
        let labels = 90.0, gap = 40.0
        let panel = labels + Double(n) * cell + gap
        let panelsPerRow = max(1, min(heads.count, Int(1200 / panel)))
        let panelRows = (heads.count + panelsPerRow - 1) / panelsPerRow
        let panelHeight = 40 + labels + Double(n) * cell + gap
        let width = Int(max(Double(panelsPerRow) * panel + 20, 400))
        let height = Int(30 + Double(panelRows) * panelHeight)
        var canvas = SVGCanvas(width: width, height: height, className: "nnsight-attention")
        canvas.text("Attention patterns of \(patterns.layerName): queries down, keys across", x: 10, y: 18, anchor: "start", className: "heading")
        for (index, head) in heads.enumerated() {
            let originX = 10 + Double(index % panelsPerRow) * panel + labels
            let originY = 30 + Double(index / panelsPerRow) * panelHeight + 20 + labels
            canvas.text("head \(head)", x: originX, y: originY - labels + 4, anchor: "start", className: "heading")
            for (k, token) in patterns.tokens.enumerated() {
                let x = originX + (Double(k) + 0.5) * cell
                canvas.text(Printed.cellToken(token), x: x, y: originY - 6, anchor: "start", className: "axis key-token",
                            attributes: "transform=\"rotate(-60 \(format(x)) \(format(originY - 6)))\"")
            }
            for (q, token) in patterns.tokens.enumerated() {
                canvas.text(Printed.cellToken(token), x: originX - 6, y: originY + (Double(q) + 0.5) * cell + 4, anchor: "end",
                            className: "axis query-token")
            }
            guard head >= 0, head < patterns.probabilities.count else { continue }
            for (q, row) in patterns.probabilities[head].enumerated() {
                for (k, p) in row.enumerated() {
                    let x = originX + Double(k) * cell, y = originY + Double(q) * cell
                    let color = ColorScale.sequential(p)
                    let printed = Printed.probability(p)
                    let tooltip = "head \(head): query \(q) (\(Printed.token(patterns.tokens[q]))) → key \(k) (\(Printed.token(patterns.tokens[k]))): \(printed)"
                    canvas.add("<rect class=\"cell\" data-head=\"\(head)\" data-query=\"\(q)\" data-key=\"\(k)\" data-value=\"\(printed)\" "
                        + "x=\"\(format(x))\" y=\"\(format(y))\" width=\"\(format(cell - 1))\" height=\"\(format(cell - 1))\" fill=\"\(color.hex)\">"
                        + "<title>\(Markup.escape(tooltip))</title></rect>")
                    if cell >= 30 {
                        canvas.text(Printed.fixed(p, decimals: 2), x: x + cell / 2, y: y + cell / 2 + 4, className: "value", fill: color.textColor)
                    }
                }
            }
        }
        return canvas.render()
    }
}
