import ArgumentParser
import NNsight
import NNsightVisualization

/// `nnsight patch`: an activation-patching sweep over layers and positions.
struct PatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patch",
        abstract: "Activation patching: the source prompt's block output copied into the target's run at each layer and position.")

    @OptionGroup var options: ModelOptions
    @OptionGroup var output: PictureOptions

    @Option(help: "The prompt whose activations are copied (the clean run).")
    var source = "The capital of Italy is"

    @Option(help: "The prompt run with them patched in (the corrupted run); same number of tokens.")
    var target = "The capital of France is"

    @Option(help: "The answer the metric favours (default: the source run's top token).")
    var answer: String?

    @Option(help: "The answer it is compared with (default: the target run's top token).")
    var other: String?

    @Option(help: "logit-difference (answer − other) or probability (of answer).")
    var metric = "logit-difference"

    func run() throws {
        let model = try options.load()
        func token(_ text: String?) throws -> Int? {
            guard let text else { return nil }
            guard let id = model.tokenizer.encode(text, addSpecialTokens: false).ids.first else {
                throw ValidationError("\"\(text)\" has no tokens")
            }
            return id
        }
        var chosen = try model.defaultPatchingMetric(source: source, target: target)
        let (sourceTop, targetTop): (Int, Int)
        switch chosen {
        case .logitDifference(let a, let b): (sourceTop, targetTop) = (a, b)
        case .probability(let a): (sourceTop, targetTop) = (a, a)
        }
        switch metric {
        case "logit-difference":
            if answer != nil || other != nil {
                chosen = .logitDifference(answer: try token(answer) ?? sourceTop, other: try token(other) ?? targetTop)
            }
        case "probability": chosen = .probability(of: try token(answer) ?? sourceTop)
        default: throw ValidationError("--metric must be logit-difference or probability, got \(metric)")
        }
        let progress = TerminalProgress()
        let layers = try model.decoderLayerCount()
        progress.update("Patching: 0 of \(layers) layers")
        let sweep = try model.patchingSweep(source: source, target: target, metric: chosen) { sweep in
            progress.update("Patching: \(sweep.values.count) of \(layers) layers")
        }
        progress.clear()
        print("Activation patching: \"\(source)\" (source) into \"\(target)\" (target); metric \(sweep.metricName)")
        print("  source (clean) baseline \(Printed.metric(sweep.sourceBaseline)), target (corrupted) baseline \(Printed.metric(sweep.targetBaseline))")
        print(column("", 18) + sweep.targetTokens.map { column("\"\(Printed.cellToken($0))\"", 13) }.joined())
        for (row, values) in sweep.values.enumerated().reversed() {
            print(column(sweep.layerNames[row], 18) + values.map { column(Printed.metric($0), 13) }.joined())
        }
        try output.write(PatchingPicture(sweep), subtitle: "\(options.model): source \"\(source)\", target \"\(target)\"")
    }
}
