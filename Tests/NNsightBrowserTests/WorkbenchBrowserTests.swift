import Foundation
import NNsight
import NNsightVisualization
import NNsightWorkbench
import Testing

/// The workbench served on 127.0.0.1 (a free port), driven in headless Chromium as a person would:
/// fill the form, press the button, wait for the picture; the cells read back from the page are
/// checked against what the library computes for the same input on its own copy of the model.
@Suite(.serialized) struct WorkbenchBrowserTests {
    @Test func workbenchPagesShowTheLibraryValuesAndRefuseBadInput() async throws {
        let expectedModel = try TinyModel.load()
        let lensPrompt = "Hello <b> & \"world\""
        let source = "The capital of France is", target = "The cat sat on the mat"
        let lens = try expectedModel.logitLens(lensPrompt)
        let sweep = try expectedModel.patchingSweep(source: source, target: target)
        let generation = try expectedModel.generateWithProbabilities("Hello", maxNewTokens: 6)
        let attention = try expectedModel.attentionProbabilities("The cat sat on the mat", layer: 1)

        let workbench = Workbench(model: try TinyModel.load(), modelName: "tiny-gpt2",
                                  limits: WorkbenchLimits(maxPromptTokens: 32, maxPatchedRuns: 20, maxNewTokens: 50))
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let server = Task { try await workbench.run(host: "127.0.0.1", port: 0) { portSink.yield($0) } }
        defer { server.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let page = "http://127.0.0.1:\(port)/"
        let folder = try screenshotFolder()

        let results = try await onThread { () -> Results in
            let browser = try Chromium()
            let first = try browser.open(page), second = try browser.open(page)
            var results = Results()
            // Two tabs at once: a patching sweep in one, a logit lens in the other.
            try fill(first, ["patch-source": source, "patch-target": target])
            try click(first, "patch-run")
            try fill(second, ["lens-prompt": lensPrompt])
            try click(second, "lens-run")
            try second.waitUntil("document.getElementById('lens').dataset.state === 'done'")
            try first.waitUntil("document.getElementById('patch').dataset.state === 'done'")
            results.lens = try DOM.rows(second, DOM.lensCells)
            results.patch = try DOM.rows(first, DOM.patchCells)
            results.baselines = try DOM.rows(first, DOM.patchBaselines)
            try second.screenshot(to: folder.appendingPathComponent("workbench-lens.png"))
            try first.screenshot(to: folder.appendingPathComponent("workbench-patching.png"))

            try fill(first, ["generate-prompt": "Hello", "generate-max": "6"])
            try click(first, "generate-run")
            try first.waitUntil("document.getElementById('generate').dataset.state === 'done'")
            results.generated = try DOM.rows(first, DOM.generatedTokens)
            try first.screenshot(to: folder.appendingPathComponent("workbench-generation.png"))

            try fill(first, ["attention-prompt": "The cat sat on the mat", "attention-layer": "1", "attention-head": "all"])
            try click(first, "attention-run")
            try first.waitUntil("document.getElementById('attention').dataset.state === 'done'")
            results.attention = try DOM.rows(first, DOM.attentionCells)
            try first.screenshot(to: folder.appendingPathComponent("workbench-attention.png"))

            // Bad input: each answered with a message on the page, and the server keeps serving.
            func refusal(_ section: String, _ fields: [String: String]) throws -> String {
                try fill(second, fields)
                try click(second, "\(section)-run")
                try second.waitUntil("document.getElementById('\(section)').dataset.state === 'failed'")
                return try second.string("document.getElementById('\(section)-message').textContent")
            }
            results.refusals.append(try refusal("lens", ["lens-prompt": "   "]))
            results.refusals.append(try refusal("generate", ["generate-prompt": "Hello", "generate-max": "100000"]))
            results.refusals.append(try refusal("patch", ["patch-source": "The capital of France is",
                                                          "patch-target": "The capital of Italy is"]))
            results.refusals.append(try refusal("patch", ["patch-source": String(repeating: "Hello ", count: 4),
                                                          "patch-target": String(repeating: "Hello ", count: 4)]))
            results.refusals.append(try refusal("attention", ["attention-prompt": "Hello", "attention-layer": "7"]))
            results.refusals.append(try refusal("attention", ["attention-prompt": "Hello", "attention-layer": "0",
                                                              "attention-head": "9"]))
            try second.screenshot(to: folder.appendingPathComponent("workbench-refusal.png"))
            // Still serving after the refusals.
            try fill(second, ["lens-prompt": "Hello"])
            try click(second, "lens-run")
            try second.waitUntil("document.getElementById('lens').dataset.state === 'done'")
            results.lensAfterRefusals = try DOM.rows(second, DOM.lensCells).count
            return results
        }
        print("screenshots: \(folder.path)")
        server.cancel()
        _ = await server.result

        #expect(results.lens.count == lens.cells.count * lens.promptTokens.count)
        for cell in results.lens {
            let computed = lens.cells[try #require(Int(cell[0]))][try #require(Int(cell[1]))]
            #expect(cell[2] == Printed.cellToken(computed.token, limit: 12))
            #expect(PictureFileTests.matches(cell[3], computed.probability), "lens cell \(cell)")
        }
        #expect(results.patch.count == sweep.layerNames.count * sweep.targetTokens.count)
        for cell in results.patch {
            let computed = sweep.values[try #require(Int(cell[0]))][try #require(Int(cell[1]))]
            #expect(PictureFileTests.matches(cell[2], computed), "patch cell \(cell)")
        }
        #expect(PictureFileTests.matches(results.baselines[0][0], sweep.sourceBaseline))
        #expect(PictureFileTests.matches(results.baselines[0][1], sweep.targetBaseline))
        #expect(results.generated.count == generation.tokens.count)
        for (shown, computed) in zip(results.generated, generation.tokens) {
            #expect(shown[1] == Printed.cellToken(computed.text, limit: 16))
            #expect(PictureFileTests.matches(shown[2], computed.probability))
        }
        #expect(results.attention.count == attention.probabilities.count * attention.promptTokens.count * attention.promptTokens.count)
        for cell in results.attention {
            let head = try #require(Int(cell[0])), q = try #require(Int(cell[1])), k = try #require(Int(cell[2]))
            #expect(PictureFileTests.matches(cell[3], attention.probabilities[head][q][k]), "attention cell \(cell)")
        }
        #expect(results.refusals.count == 6)
        #expect(results.refusals[4].contains("Layer \"7\" is out of range"))
        #expect(results.refusals[5].contains("Head \"9\" is out of range"))
        #expect(results.refusals[0].contains("empty"))
        #expect(results.refusals[1].contains("from 1 to 50"))
        #expect(results.refusals[2].contains("same number of tokens"))
        #expect(results.refusals[3].contains("too large"))
        #expect(results.lensAfterRefusals > 0)
    }
}

struct Results: Sendable {
    var lens: [[String]] = []
    var patch: [[String]] = []
    var baselines: [[String]] = []
    var generated: [[String]] = []
    var attention: [[String]] = []
    var refusals: [String] = []
    var lensAfterRefusals = 0
}

/// Sets form fields by id, as typing would.
func fill(_ tab: Chromium.Tab, _ fields: [String: String]) throws {
    for (id, value) in fields {
        let literal = String(decoding: try JSONSerialization.data(withJSONObject: [value]), as: UTF8.self).dropFirst().dropLast()
        _ = try tab.evaluate("document.getElementById('\(id)').value = \(literal)")
    }
}

/// Clicks a button by id.
func click(_ tab: Chromium.Tab, _ id: String) throws {
    _ = try tab.evaluate("document.getElementById('\(id)').click()")
}
