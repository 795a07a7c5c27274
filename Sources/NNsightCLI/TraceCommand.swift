import ArgumentParser
import Foundation
import NNsight
import NNsightTorch

/// `nnsight trace`: one module's output on a prompt, and optionally its logit lens.
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Show a module's output on a prompt (and what the model would predict from it).")

    @OptionGroup var options: ModelOptions

    @Option(help: "The prompt to run.")
    var prompt: String

    @Option(help: "The module's dotted path, e.g. transformer.h.5 or model.layers.3.mlp.")
    var module: String

    @Flag(help: "Decode the module's last-position output through the final norm and unembedding.")
    var logitLens = false

    @Option(help: "How many tokens to list.")
    var top = 5

    func run() throws {
        try Torch.setNumThreads(options.threads)
        let model = try LanguageModel(path: options.model)
        let path = module.hasPrefix("model.") && (try? model.root.get(module)) == nil ? String(module.dropFirst(6)) : module
        let envoy: Envoy
        do {
            envoy = try model.root.get(path)
        } catch {
            throw ValidationError("\(error)")
        }
        let tokenizer = model.tokenizer
        let ids = try model.tokenRows(prompt)[0]
        print("Prompt: \(ids.count) tokens: " + ids.map { Report.token($0, tokenizer) }.joined(separator: " "))
        let normPath = logitLens ? try finalNormPath(model) : nil
        let (output, final, lens) = try model.trace(prompt) { m -> (Tensor, Tensor, Tensor?) in
            let output = try m.get(path).output
            let lens = try normPath.map { try m.lm_head(try m.get($0)(output))[0, -1] }
            return (output, try m.lm_head.output[0, -1], lens)
        }
        print("\(envoy.path): \(envoy.module.typeName), output shape \(output.shape), dtype \(output.dtype)")
        let last = output.rank >= 2 ? output[0, -1] : output
        print(String(format: "  last position: mean %.4f, std %.4f, norm %.4f",
                     try last.to(.float32).mean().item(Double.self), try last.to(.float32).std().item(Double.self),
                     try last.to(.float32).norm().item(Double.self)))
        if let lens {
            print("Logit lens at \(envoy.path):")
            for (id, p) in try Report.top(lens, top) {
                print("  \(Report.token(id, tokenizer).padding(toLength: 16, withPad: " ", startingAt: 0)) \(Report.percent(p))  \(Report.bar(p))")
            }
        }
        print("Model's prediction:")
        for (id, p) in try Report.top(final, top) {
            print("  \(Report.token(id, tokenizer).padding(toLength: 16, withPad: " ", startingAt: 0)) \(Report.percent(p))  \(Report.bar(p))")
        }
    }
}
