import ArgumentParser
import NNsight
import NNsightVisualization

/// `nnsight attention`: one layer's attention patterns over a prompt.
struct AttentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "Attention patterns of one layer: each head's probabilities, queries by keys, over a prompt.")

    @OptionGroup var options: ModelOptions
    @OptionGroup var output: PictureOptions

    @Option(help: "The prompt.")
    var prompt = "The capital of France is"

    @Option(help: "The decoder block whose attention is read.")
    var layer: Int

    @Option(help: "Only this head (default: every head).")
    var head: Int?

    func run() throws {
        let model = try options.load()
        let attention = try model.attentionProbabilities(prompt, layer: layer)
        let heads = attention.probabilities.count
        if let head, !(0..<heads).contains(head) {
            throw ValidationError("--head \(head) out of range: \(attention.layerName) has \(heads) heads (0..<\(heads))")
        }
        let shown = head.map { [$0] } ?? Array(0..<heads)
        let tokens = attention.promptTokens.map { "\"\(Printed.cellToken($0))\"" }
        print("Attention probabilities of \(attention.layerName) over \"\(prompt)\" (rows: queries, columns: keys)")
        for h in shown {
            print("\nhead \(h)")
            print(column("", 14) + tokens.map { column($0, 9) }.joined())
            for (q, row) in attention.probabilities[h].enumerated() {
                print(column(tokens[q], 14) + row.map { column(Printed.probability($0), 9) }.joined())
            }
        }
        try output.write(AttentionPicture(try AttentionPatterns(attention), heads: shown),
                         subtitle: "\(options.model): \"\(prompt)\", layer \(layer)")
    }
}
