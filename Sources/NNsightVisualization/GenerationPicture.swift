import NNsight

/// A generation token by token: the prompt in grey, then each new token in a box coloured by the
/// probability the model gave it, the probability printed beneath, the alternatives in a tooltip.
///
/// New tokens are `<g class="generated" data-step="S">` holding `text.token` and `text.value`.
public struct GenerationPicture: Picture {
    public var generation: TokenGeneration
    public var title: String

    public init(_ generation: TokenGeneration, title: String = "Generation") {
        self.generation = generation
        self.title = title
    }

    static let width = 960.0, boxHeight = 38.0, charWidth = 7.0

    public func svg() -> String {
        struct Box { var text: String; var x: Double; var y: Double; var width: Double }
        var boxes: [Box] = []
        var x = 10.0, y = 34.0
        let items = generation.promptTokens + generation.tokens.map(\.text)
        for item in items {
            let shown = Printed.cellToken(item, limit: 16)
            let width = max(34, Double(shown.count) * Self.charWidth + 10)
            if x + width > Self.width - 10 {
                x = 10
                y += Self.boxHeight + 6
            }
            boxes.append(Box(text: shown, x: x, y: y, width: width))
            x += width + 3
        }
        let height = Int(y + Self.boxHeight + 36)
        var canvas = SVGCanvas(width: Int(Self.width), height: height, className: "nnsight-generation")
        canvas.text("Generation: each new token with the probability the model gave it (\(generation.tokens.count) new tokens)",
                    x: 10, y: 18, anchor: "start", className: "heading")
        for (index, box) in boxes.enumerated() {
            if index < generation.promptTokens.count {
                canvas.add("<g class=\"prompt-token\"><rect x=\"\(format(box.x))\" y=\"\(format(box.y))\" width=\"\(format(box.width))\" height=\"\(format(Self.boxHeight))\" fill=\"#e6e6e6\"/>"
                    + "<text class=\"token\" x=\"\(format(box.x + box.width / 2))\" y=\"\(format(box.y + 15))\" text-anchor=\"middle\" fill=\"#555555\">\(Markup.escape(box.text))</text></g>")
                continue
            }
            let step = index - generation.promptTokens.count
            let token = generation.tokens[step]
            let color = ColorScale.sequential(token.probability)
            let alternatives = token.alternatives.map { "\"\(Printed.token($0.text))\" \(Printed.probability($0.probability))" }.joined(separator: ", ")
            let tooltip = "step \(token.step): \"\(Printed.token(token.text))\" p=\(Printed.probability(token.probability)); most likely: \(alternatives)"
            canvas.add("<g class=\"generated\" data-step=\"\(step)\"><title>\(Markup.escape(tooltip))</title>"
                + "<rect x=\"\(format(box.x))\" y=\"\(format(box.y))\" width=\"\(format(box.width))\" height=\"\(format(Self.boxHeight))\" fill=\"\(color.hex)\" stroke=\"#08306b\" stroke-width=\"0.5\"/>"
                + "<text class=\"token\" x=\"\(format(box.x + box.width / 2))\" y=\"\(format(box.y + 15))\" text-anchor=\"middle\" fill=\"\(color.textColor)\">\(Markup.escape(box.text))</text>"
                + "<text class=\"value\" x=\"\(format(box.x + box.width / 2))\" y=\"\(format(box.y + 30))\" text-anchor=\"middle\" fill=\"\(color.textColor)\">\(Printed.probability(token.probability))</text></g>")
        }
        return canvas.render()
    }
}
