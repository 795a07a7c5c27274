import ArgumentParser
import Foundation
import NNsight
import NNsightTorch
import NNsightVisualization

/// `--html FILE` and `--svg FILE`, shared by the picture commands.
struct PictureOptions: ParsableArguments {
    @Option(help: "Write the picture as a self-contained HTML page to this file.")
    var html: String?

    @Option(help: "Write the picture as an SVG file.")
    var svg: String?

    func write(_ picture: some Picture, subtitle: String) throws {
        if let html {
            try picture.html(subtitle: subtitle).write(toFile: html, atomically: true, encoding: .utf8)
            print("Wrote \(html)")
        }
        if let svg {
            try picture.svgDocument().write(toFile: svg, atomically: true, encoding: .utf8)
            print("Wrote \(svg)")
        }
    }
}

extension ModelOptions {
    /// Loads the model with its weights, showing progress on a terminal.
    func load() throws -> LanguageModel {
        try Torch.setNumThreads(threads)
        return try TerminalProgress().during("Loading \(model)") {
            let loaded = try LanguageModel(path: model)
            try loaded.dispatch()
            return loaded
        }
    }
}

/// A column of `width` characters, padded or cut.
func column(_ text: String, _ width: Int) -> String {
    text.count >= width ? String(text.prefix(width)) : text + String(repeating: " ", count: width - text.count)
}
