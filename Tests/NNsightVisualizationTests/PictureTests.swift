import Foundation
import NNsight
import NNsightVisualization
import Testing

@Suite struct PictureTests {
    @Test func markupCharactersAreEscaped() {
        #expect(Markup.escape("<a href=\"x\">&'</a>") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;")
        #expect(Markup.escape("a\u{0}b") == "a\u{FFFD}b")
        #expect(Markup.escape("Ġthe café") == "Ġthe café")
    }

    @Test func printedValuesHaveThreeDecimalsAndNoNegativeZero() {
        #expect(Printed.probability(0.41249) == "0.412")
        #expect(Printed.metric(-0.0001) == "0.000")
        #expect(Printed.metric(-1.25) == "-1.250")
        #expect(Printed.cellToken("\nabcdefghijkl", limit: 6) == "\\nabc…")
        #expect(Printed.token("a\u{1}b\tc") == "a\\x01b\\tc")
    }

    @Test func logitLensPictureCarriesEveryCellEscaped() throws {
        let model = try Tiny.load()
        let lens = try model.logitLens("Hello <b> & \"world\"")
        let svg = try ParsedSVG(LogitLensPicture(lens).svg())
        let cells = svg.elements(ofClass: "cell")
        #expect(cells.count == lens.cells.count * lens.promptTokens.count)
        for cell in cells {
            let layer = try #require(Int(cell.attributes["data-layer"] ?? "")), position = try #require(Int(cell.attributes["data-position"] ?? ""))
            let computed = lens.cells[layer][position]
            #expect(svg.child(of: cell, "token") == Printed.cellToken(computed.token, limit: 12))
            #expect(svg.child(of: cell, "value") == Printed.probability(computed.probability))
        }
        let headers = svg.elements(ofClass: "input-token").map(\.text)
        #expect(headers == lens.promptTokens.map { Printed.cellToken($0, limit: 12) })
        #expect(headers.contains("<") && headers.contains("&"))
    }

    @Test func partialSweepDrawsOnlyTheFinishedLayers() throws {
        let model = try Tiny.load()
        var partial: [PatchingSweep] = []
        let sweep = try model.patchingSweep(source: "The capital of France is", target: "The cat sat on the mat") { partial.append($0) }
        #expect(partial.count == sweep.layerNames.count)
        let first = try ParsedSVG(PatchingPicture(partial[0]).svg())
        #expect(first.elements(ofClass: "cell").count == sweep.targetTokens.count)
        #expect(first.elements(ofClass: "pending").count == sweep.layerNames.count - 1)
        let full = try ParsedSVG(PatchingPicture(sweep).svg())
        for cell in full.elements(ofClass: "cell") {
            let layer = try #require(Int(cell.attributes["data-layer"] ?? "")), position = try #require(Int(cell.attributes["data-position"] ?? ""))
            #expect(full.child(of: cell, "value") == Printed.metric(sweep.values[layer][position]))
        }
        #expect(full.elements(ofClass: "baseline-source").first?.text == Printed.metric(sweep.sourceBaseline))
        #expect(full.elements(ofClass: "baseline-target").first?.text == Printed.metric(sweep.targetBaseline))
    }

    @Test func attentionPatternsOfTheWrongShapeAreRefused() throws {
        #expect(throws: VisualizationError.self) {
            try AttentionPatterns(layerName: "h.0.attn", tokens: ["a", "b"], probabilities: [[[1, 0]]])
        }
        let patterns = try AttentionPatterns(layerName: "h.0.attn", tokens: ["<a>", "b"], probabilities: [[[1, 0], [0.25, 0.75]]])
        let svg = try ParsedSVG(AttentionPicture(patterns).svg())
        let values = svg.elements(ofClass: "cell").map { $0.attributes["data-value"] ?? "" }
        #expect(values == ["1.000", "0.000", "0.250", "0.750"])
        #expect(svg.elements(ofClass: "query-token").map(\.text) == ["<a>", "b"])
    }

    @Test func htmlPageIsSelfContained() throws {
        let model = try Tiny.load()
        let html = LogitLensPicture(try model.logitLens("Hello")).html(subtitle: "a <subtitle>")
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("a &lt;subtitle&gt;"))
        // Nothing is fetched: no script, stylesheet link, image or external URL besides the SVG namespace.
        #expect(!html.contains("<script") && !html.contains("<link") && !html.contains("<img"))
        #expect(html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").range(of: "http") == nil)
    }
}
