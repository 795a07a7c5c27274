import Foundation
import NNsight
import NNsightVisualization
import Testing

/// The HTML files the library writes, opened from disk in headless Chromium: the cells the
/// browser renders carry the values the library computed, to the printed precision.
@Suite(.serialized) struct PictureFileTests {
    /// A shown value is the computed one to the printed precision (three decimals).
    static func matches(_ shown: String, _ computed: Double) -> Bool {
        guard let value = Double(shown) else { return false }
        return abs(value - computed) <= 0.0005 + 1e-6
    }

    @Test func logitLensFileShowsTheComputedTopTokens() async throws {
        let model = try TinyModel.load()
        // Markup characters in the prompt: the tokens must be escaped to survive as text.
        let lens = try model.logitLens("Hello <b> & \"world\"")
        #expect(lens.promptTokens.contains("<"))
        let cells = try await render(LogitLensPicture(lens), name: "logit-lens", query: DOM.lensCells)
        #expect(cells.count == lens.cells.count * lens.promptTokens.count)
        for cell in cells {
            let layer = try #require(Int(cell[0])), position = try #require(Int(cell[1]))
            let computed = lens.cells[layer][position]
            #expect(cell[2] == Printed.cellToken(computed.token, limit: 12))
            #expect(Self.matches(cell[3], computed.probability), "cell \(cell) against \(computed.probability)")
        }
        let headers = try await render(LogitLensPicture(lens), name: nil, query: """
            JSON.stringify([...document.querySelectorAll('svg.nnsight-logit-lens text.input-token')].map(t => [t.textContent]))
            """)
        #expect(headers.map { $0[0] } == lens.promptTokens.map { Printed.cellToken($0, limit: 12) })
    }

    @Test func patchingFileShowsTheSweepAndBaselines() async throws {
        let model = try TinyModel.load()
        let sweep = try model.patchingSweep(source: "The capital of France is", target: "The cat sat on the mat")
        let cells = try await render(PatchingPicture(sweep), name: "patching", query: DOM.patchCells)
        #expect(cells.count == sweep.layerNames.count * sweep.targetTokens.count)
        for cell in cells {
            let layer = try #require(Int(cell[0])), position = try #require(Int(cell[1]))
            #expect(Self.matches(cell[2], sweep.values[layer][position]), "cell \(cell)")
        }
        let baselines = try await render(PatchingPicture(sweep), name: nil, query: DOM.patchBaselines)
        #expect(Self.matches(baselines[0][0], sweep.sourceBaseline))
        #expect(Self.matches(baselines[0][1], sweep.targetBaseline))
    }

    @Test func generationFileShowsEachTokenAndItsProbability() async throws {
        let model = try TinyModel.load()
        let generation = try model.generateWithProbabilities("Hello", maxNewTokens: 8)
        let tokens = try await render(GenerationPicture(generation), name: "generation", query: DOM.generatedTokens)
        #expect(tokens.count == generation.tokens.count)
        for (shown, computed) in zip(tokens, generation.tokens) {
            #expect(shown[1] == Printed.cellToken(computed.text, limit: 16))
            #expect(Self.matches(shown[2], computed.probability))
        }
    }

    @Test func attentionFileShowsTheGivenProbabilities() async throws {
        // The view takes probabilities as given: a causal pattern where query q spreads evenly
        // over keys 0...q in head 0 and attends to itself in head 1.
        let tokens = ["<s>", "a & b", "\"c\"", "d"]
        let even = (0..<4).map { q in (0..<4).map { k in k <= q ? 1.0 / Double(q + 1) : 0 } }
        let own = (0..<4).map { q in (0..<4).map { k in k == q ? 1.0 : 0 } }
        let patterns = try AttentionPatterns(layerName: "transformer.h.0.attn", tokens: tokens, probabilities: [even, own])
        let cells = try await render(AttentionPicture(patterns), name: "attention", query: DOM.attentionCells)
        #expect(cells.count == 2 * 16)
        for cell in cells {
            let head = try #require(Int(cell[0])), q = try #require(Int(cell[1])), k = try #require(Int(cell[2]))
            #expect(Self.matches(cell[3], patterns.probabilities[head][q][k]))
        }
    }

    /// Writes `picture` as an HTML file, opens it in Chromium, runs `query` and, when `name` is
    /// given, saves a screenshot.
    func render(_ picture: some Picture, name: String?, query: String) async throws -> [[String]] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nnsight-pictures-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("picture.html")
        try picture.html(subtitle: "test").write(to: file, atomically: true, encoding: .utf8)
        let screenshot = try name.map { try screenshotFolder().appendingPathComponent("\($0).png") }
        let url = file.absoluteString
        let rows = try await onThread {
            let browser = try Chromium()
            let tab = try browser.open(url)
            if let screenshot {
                try tab.screenshot(to: screenshot)
                print("screenshot: \(screenshot.path)")
            }
            return try DOM.rows(tab, query)
        }
        return rows
    }
}
