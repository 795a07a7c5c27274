import ArgumentParser
import NNsight
import NNsightVisualization

/// `nnsight lens`: the logit lens of a prompt over every layer and position.
struct LensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lens",
        abstract: "Logit lens: each layer's top token and its probability at every position of a prompt.")

    @OptionGroup var options: ModelOptions
    @OptionGroup var output: PictureOptions

    @Option(help: "The prompt.")
    var prompt = "The capital of France is"

    func run() throws {
        let model = try options.load()
        let lens = try model.logitLens(prompt)
        print("Logit lens of \"\(prompt)\": top token and probability by layer (rows) and position (columns)")
        print(column("", 18) + lens.promptTokens.map { column("\"\(Printed.cellToken($0, limit: 12))\"", 22) }.joined())
        for (row, cells) in lens.cells.enumerated().reversed() {
            print(column(lens.layerNames[row], 18) + cells.map {
                column("\"\(Printed.cellToken($0.token, limit: 12))\" \(Printed.probability($0.probability))", 22)
            }.joined())
        }
        try output.write(LogitLensPicture(lens), subtitle: "\(options.model): \"\(prompt)\"")
    }
}
