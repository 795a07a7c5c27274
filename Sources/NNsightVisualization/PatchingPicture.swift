import NNsight

/// An activation-patching heatmap: one row per layer (the first at the bottom), one column per
/// position; each cell is the metric with the source run's block output patched into the target
/// run there. Colour: the share of the way from the target (corrupted) baseline, white, to the
/// source (clean) baseline, blue; red beyond the target baseline. Rows not yet computed are empty.
///
/// Cells are `<g class="cell" data-layer="L" data-position="P">` with the value as printed in
/// `text.value`; the baselines are in `text.baseline-source` and `text.baseline-target`.
public struct PatchingPicture: Picture {
    public var sweep: PatchingSweep
    public var title: String

    public init(_ sweep: PatchingSweep, title: String = "Activation patching") {
        self.sweep = sweep
        self.title = title
    }

    static let cellWidth = 72.0, cellHeight = 24.0, left = 130.0, top = 96.0

    public func svg() -> String {
        let columns = sweep.targetTokens.count, rows = sweep.layerNames.count
        let heading = "Activation patching: \(sweep.metricName) with the source's block output patched in"
        let note = "Blue: patching there moves the metric to the source baseline; white: it stays at the target baseline; red: beyond it."
        let width = Int(max(Self.left + Double(columns) * Self.cellWidth + 20, textWidth(heading, bold: true), textWidth(note)))
        let height = Int(Self.top + Double(rows) * Self.cellHeight + 44)
        var canvas = SVGCanvas(width: width, height: height, className: "nnsight-patching")
        canvas.text(heading, x: 10, y: 18, anchor: "start", className: "heading")
        canvas.add("<text x=\"10\" y=\"38\" text-anchor=\"start\" class=\"note\">source (clean) baseline: "
            + "<tspan class=\"baseline-source\">\(Printed.metric(sweep.sourceBaseline))</tspan>   target (corrupted) baseline: "
            + "<tspan class=\"baseline-target\">\(Printed.metric(sweep.targetBaseline))</tspan>   "
            + "<tspan class=\"progress\">\(sweep.values.count)/\(rows) layers</tspan></text>")
        for position in 0..<columns {
            let x = Self.left + (Double(position) + 0.5) * Self.cellWidth
            canvas.text(Printed.cellToken(sweep.sourceTokens[position]), x: x, y: Self.top - 26, className: "axis source-token",
                        fill: "#2166ac", attributes: "data-position=\"\(position)\"")
            canvas.text(Printed.cellToken(sweep.targetTokens[position]), x: x, y: Self.top - 10, className: "axis target-token",
                        attributes: "data-position=\"\(position)\"")
        }
        canvas.text("source", x: Self.left - 8, y: Self.top - 26, anchor: "end", className: "axis", fill: "#2166ac")
        canvas.text("target", x: Self.left - 8, y: Self.top - 10, anchor: "end", className: "axis")
        let span = sweep.sourceBaseline - sweep.targetBaseline
        for row in 0..<rows {
            let y = Self.top + Double(rows - 1 - row) * Self.cellHeight
            canvas.text(sweep.layerNames[row], x: Self.left - 8, y: y + Self.cellHeight / 2 + 4, anchor: "end", className: "axis layer-name")
            guard row < sweep.values.count else {
                canvas.add("<rect class=\"pending\" x=\"\(format(Self.left))\" y=\"\(format(y))\" width=\"\(format(Double(columns) * Self.cellWidth - 2))\" height=\"\(format(Self.cellHeight - 2))\" fill=\"#eeeeee\"/>")
                continue
            }
            for (position, value) in sweep.values[row].enumerated() {
                let x = Self.left + Double(position) * Self.cellWidth
                let share = span == 0 || !span.isFinite ? 0 : (value - sweep.targetBaseline) / span
                let color = ColorScale.diverging(share)
                let tooltip = "\(sweep.layerNames[row]), position \(position) (\(Printed.token(sweep.targetTokens[position]))): "
                    + "\(sweep.metricName) = \(Printed.metric(value))"
                canvas.add("<g class=\"cell\" data-layer=\"\(row)\" data-position=\"\(position)\">"
                    + "<title>\(Markup.escape(tooltip))</title>"
                    + "<rect x=\"\(format(x))\" y=\"\(format(y))\" width=\"\(format(Self.cellWidth - 2))\" height=\"\(format(Self.cellHeight - 2))\" fill=\"\(color.hex)\"/>"
                    + "<text class=\"value\" x=\"\(format(x + Self.cellWidth / 2 - 1))\" y=\"\(format(y + 15))\" text-anchor=\"middle\" fill=\"\(color.textColor)\">\(Printed.metric(value))</text>"
                    + "</g>")
            }
        }
        canvas.text(note, x: 10, y: Self.top + Double(rows) * Self.cellHeight + 22, anchor: "start", className: "note")
        return canvas.render()
    }
}
