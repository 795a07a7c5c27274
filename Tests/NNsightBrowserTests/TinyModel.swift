import Foundation
import NNsight
import NNsightTorch

/// The tiny GPT-2 checkpoint under Tests/Fixtures/models (made by scripts/fixtures with transformers).
enum TinyModel {
    static let path = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/models/tiny-gpt2").path

    static func load() throws -> LanguageModel {
        try Torch.setNumThreads(1)
        let model = try LanguageModel(path: path)
        try model.dispatch()
        return model
    }
}

/// Reads rendered cells back from the DOM, as `[String]` rows of the given fields.
enum DOM {
    /// `[layer, position, token, value]` of each logit-lens cell inside `root`.
    static let lensCells = """
        JSON.stringify([...document.querySelectorAll('svg.nnsight-logit-lens g.cell')].map(g =>
          [g.dataset.layer, g.dataset.position, g.querySelector('text.token').textContent, g.querySelector('text.value').textContent]))
        """
    /// `[layer, position, value]` of each patching cell.
    static let patchCells = """
        JSON.stringify([...document.querySelectorAll('svg.nnsight-patching g.cell')].map(g =>
          [g.dataset.layer, g.dataset.position, g.querySelector('text.value').textContent]))
        """
    static let patchBaselines = """
        JSON.stringify([[document.querySelector('svg.nnsight-patching .baseline-source').textContent,
                         document.querySelector('svg.nnsight-patching .baseline-target').textContent]])
        """
    /// `[step, token, value]` of each generated token.
    static let generatedTokens = """
        JSON.stringify([...document.querySelectorAll('svg.nnsight-generation g.generated')].map(g =>
          [g.dataset.step, g.querySelector('text.token').textContent, g.querySelector('text.value').textContent]))
        """
    /// `[head, query, key, value]` of each attention cell.
    static let attentionCells = """
        JSON.stringify([...document.querySelectorAll('svg.nnsight-attention rect.cell')].map(r =>
          [r.dataset.head, r.dataset.query, r.dataset.key, r.dataset.value]))
        """

    static func rows(_ tab: Chromium.Tab, _ expression: String) throws -> [[String]] {
        let json = try tab.string(expression)
        return try JSONDecoder().decode([[String]].self, from: Data(json.utf8))
    }
}
