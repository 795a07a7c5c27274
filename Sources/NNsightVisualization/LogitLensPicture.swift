import NNsight

/// The logit lens as a grid: one row per layer (the first at the bottom, as the residual stream
/// rises), one column per prompt position; each cell shows the most likely token and its
/// probability, coloured by the probability.
///
/// Each cell is a `<g class="cell" data-layer="L" data-position="P">` holding the token
/// (`text.token`), the probability as printed (`text.value`) and a tooltip.
public struct LogitLensPicture: Picture {
    public var lens: LogitLens
    public var title: String

    public init(_ lens: LogitLens, title: String = "Logit lens") {
        self.lens = lens
        self.title = title
    }

    static let cellWidth = 84.0, cellHeight = 34.0, left = 130.0, top = 56.0

    public func svg() -> String {
        let columns = lens.promptTokens.count, rows = lens.cells.count
        let note = "Columns: the prompt's tokens. Rows: each decoder block's output through the final norm and the unembedding."
        let width = Int(max(Self.left + Double(columns) * Self.cellWidth + 20, textWidth(note)))
        let height = Int(Self.top + Double(rows) * Self.cellHeight + 50)
        var canvas = SVGCanvas(width: width, height: height, className: "nnsight-logit-lens")
        canvas.text("Logit lens: top token and its probability, by layer and position", x: 10, y: 18, anchor: "start", className: "heading")
        for (position, token) in lens.promptTokens.enumerated() {
            let x = Self.left + (Double(position) + 0.5) * Self.cellWidth
            canvas.text(Printed.cellToken(token, limit: 12), x: x, y: Self.top - 10, className: "axis input-token",
                        attributes: "data-position=\"\(position)\"")
        }
        for (row, cells) in lens.cells.enumerated() {
            // The first layer is drawn at the bottom.
            let y = Self.top + Double(rows - 1 - row) * Self.cellHeight
            canvas.text(lens.layerNames[row], x: Self.left - 8, y: y + Self.cellHeight / 2 + 4, anchor: "end", className: "axis layer-name")
            for (position, cell) in cells.enumerated() {
                let x = Self.left + Double(position) * Self.cellWidth
                let color = ColorScale.sequential(cell.probability)
                let tooltip = "\(lens.layerNames[row]), position \(position) (\(Printed.token(lens.promptTokens[position]))): "
                    + "\"\(Printed.token(cell.token))\" p=\(Printed.probability(cell.probability))"
                canvas.add("<g class=\"cell\" data-layer=\"\(row)\" data-position=\"\(position)\">"
                    + "<title>\(Markup.escape(tooltip))</title>"
                    + "<rect x=\"\(format(x))\" y=\"\(format(y))\" width=\"\(format(Self.cellWidth - 2))\" height=\"\(format(Self.cellHeight - 2))\" fill=\"\(color.hex)\"/>"
                    + "<text class=\"token\" x=\"\(format(x + Self.cellWidth / 2 - 1))\" y=\"\(format(y + 14))\" text-anchor=\"middle\" fill=\"\(color.textColor)\">\(Markup.escape(Printed.cellToken(cell.token, limit: 12)))</text>"
                    + "<text class=\"value\" x=\"\(format(x + Self.cellWidth / 2 - 1))\" y=\"\(format(y + 27))\" text-anchor=\"middle\" fill=\"\(color.textColor)\">\(Printed.probability(cell.probability))</text>"
                    + "</g>")
            }
        }
        let footer = Self.top + Double(rows) * Self.cellHeight + 20
        canvas.text(note, x: 10, y: footer, anchor: "start", className: "note")
        return canvas.render()
    }
}
