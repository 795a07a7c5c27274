/// A picture of a result, drawn as one standalone SVG element.
public protocol Picture {
    /// A short title for the page that shows it.
    var title: String { get }
    /// The picture as an `<svg>` element with its own size and styles (no external reference),
    /// usable alone (save it as a `.svg` file) or inside HTML.
    func svg() -> String
}

extension Picture {
    /// The picture as a complete, self-contained HTML page.
    public func html(subtitle: String? = nil) -> String {
        HTMLPage(title: title, subtitle: subtitle, pictures: [self]).html()
    }

    /// The SVG as a file of its own (with the XML declaration).
    public func svgDocument() -> String { "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg() + "\n" }
}

/// Builds an SVG document from parts.
struct SVGCanvas {
    let width: Int
    let height: Int
    let className: String
    var parts: [String] = []

    init(width: Int, height: Int, className: String) {
        self.width = width
        self.height = height
        self.className = className
    }

    mutating func add(_ part: String) { parts.append(part) }

    /// Text at (x, y); `attributes` are written verbatim (callers escape their values).
    mutating func text(_ content: String, x: Double, y: Double, anchor: String = "middle", className: String? = nil,
                       fill: String? = nil, attributes: String = "") {
        var attrs = "x=\"\(format(x))\" y=\"\(format(y))\" text-anchor=\"\(anchor)\""
        if let className { attrs += " class=\"\(className)\"" }
        if let fill { attrs += " fill=\"\(fill)\"" }
        if !attributes.isEmpty { attrs += " " + attributes }
        parts.append("<text \(attrs)>\(Markup.escape(content))</text>")
    }

    func render() -> String {
        let style = """
            <style>
            text { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; font-size: 11px; white-space: pre; }
            .axis { font-size: 11px; fill: #333333; }
            .heading { font-size: 13px; font-weight: bold; fill: #111111; }
            .note { font-size: 11px; fill: #444444; }
            .value { font-size: 10px; }
            .token { font-size: 11px; }
            </style>
            """
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"\(className)\" width=\"\(width)\" height=\"\(height)\" "
            + "viewBox=\"0 0 \(width) \(height)\">\n\(style)\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
            + parts.joined(separator: "\n") + "\n</svg>"
    }
}

/// About how wide `text` is drawn at the pictures' font sizes (11 px, 13 px bold), plus margins.
func textWidth(_ text: String, bold: Bool = false) -> Double {
    Double(text.count) * (bold ? 8.0 : 6.3) + 24
}

func format(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : Printed.fixed(value, decimals: 1)
}

/// A self-contained HTML page of one or more pictures: inline SVG and styles, no script, no
/// network reference; it opens from a file.
public struct HTMLPage {
    public var title: String
    public var subtitle: String?
    public var pictures: [any Picture]

    public init(title: String, subtitle: String? = nil, pictures: [any Picture]) {
        self.title = title
        self.subtitle = subtitle
        self.pictures = pictures
    }

    public func html() -> String {
        var body = "<h1>\(Markup.escape(title))</h1>\n"
        if let subtitle { body += "<p class=\"subtitle\">\(Markup.escape(subtitle))</p>\n" }
        for picture in pictures { body += "<figure>\n\(picture.svg())\n</figure>\n" }
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>\(Markup.escape(title))</title>
            <style>
            \(HTMLPage.css)
            </style>
            </head>
            <body>
            \(body)</body>
            </html>

            """
    }

    /// The page styles, shared with the workbench.
    public static let css = """
        body { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; margin: 24px; color: #111111; background: #fafafa; }
        h1 { font-size: 20px; margin: 0 0 4px 0; }
        .subtitle { color: #444444; margin: 0 0 16px 0; white-space: pre-wrap; }
        figure { margin: 0 0 24px 0; }
        """
}
