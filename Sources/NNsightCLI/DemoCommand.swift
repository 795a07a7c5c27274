import ArgumentParser
import Foundation
import NNsight
import NNsightTemplates
import NNsightTorch

/// `nnsight demo`: what interventions show on the default model.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Clean run, activation patching, ablation and logit lens on the default model.")

    @OptionGroup var options: ModelOptions

    @Option(help: "The prompt whose answer is studied.")
    var prompt = "The capital of France is"

    @Option(help: "A prompt of the same length whose activations are patched in.")
    var source = "The capital of Italy is"

    @Option(help: "The expected answer of --prompt.")
    var answer = " Paris"

    @Option(help: "The expected answer of --source.")
    var sourceAnswer = " Rome"

    @Option(help: "A question put to the model through its own chat template.")
    var chat = "What is the capital of France?"

    func run() throws {
        try Torch.setNumThreads(options.threads)
        let started = Date()
        let model = try LanguageModel(path: options.model)
        try model.dispatch()
        let tokenizer = model.tokenizer
        print("Loaded \(options.model) (\(model.checkpoint.architecture), \(model.network.layerCount) layers) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        let answerId = tokenizer.encode(answer, addSpecialTokens: false).ids[0]
        let sourceId = tokenizer.encode(sourceAnswer, addSpecialTokens: false).ids[0]
        guard try model.tokenRows(prompt)[0].count == model.tokenRows(source)[0].count else {
            throw ValidationError("--prompt and --source must have the same number of tokens for position-wise patching")
        }
        let layers = try model.root.get(layerPath(model)).count

        Report.heading("1. Clean run: \"\(prompt)\"")
        let clean = try model.trace(prompt) { m in try m.lm_head.output[0, -1] }
        for (rank, (id, p)) in try Report.top(clean, 5).enumerated() {
            print("  \(rank + 1). \(Report.token(id, tokenizer).padding(toLength: 14, withPad: " ", startingAt: 0)) \(Report.percent(p))  \(Report.bar(p))")
        }
        let cleanAnswer = try Report.probability(of: answerId, in: clean)
        let cleanSource = try Report.probability(of: sourceId, in: clean)

        Report.heading("2. Activation patching: the last token's residual stream from \"\(source)\"")
        print("  Each row runs both prompts in one batch and copies layer L's output at the last position")
        print("  from the source prompt into the studied one. P(\(sourceAnswer.trimmingCharacters(in: .whitespaces))) shows where the answer is carried.")
        var patchedSource: [Double] = []
        for layer in 0..<layers {
            var patched: Tensor!
            try model.trace { t in
                var hidden: Tensor!
                try t.invoke(source) { m in hidden = try m.get("\(layerPath(model)).\(layer)").output[.all, -1].clone() }
                try t.invoke(prompt) { m in
                    try m.get("\(layerPath(model)).\(layer)").output[.all, -1] = hidden
                    patched = try m.lm_head.output[0, -1]
                }
            }
            let pSource = try Report.probability(of: sourceId, in: patched)
            let pAnswer = try Report.probability(of: answerId, in: patched)
            patchedSource.append(pSource)
            print(String(format: "  L%02d  ", layer) + "P(\(sourceAnswer.trimmingCharacters(in: .whitespaces)))=\(Report.percent(pSource)) \(Report.bar(pSource, width: 24))  P(\(answer.trimmingCharacters(in: .whitespaces)))=\(Report.percent(pAnswer))")
        }
        if let best = patchedSource.indices.max(by: { patchedSource[$0] < patchedSource[$1] }) {
            print("  Clean: P(\(sourceAnswer.trimmingCharacters(in: .whitespaces)))=\(Report.percent(cleanSource)). Patching layer \(best) moves it to \(Report.percent(patchedSource[best])).")
        }

        Report.heading("3. Ablation: zeroing each layer's MLP output")
        var ablated: [(layer: Int, p: Double)] = []
        for layer in 0..<layers {
            let logits = try model.trace(prompt) { m in
                try m.get("\(layerPath(model)).\(layer).mlp").output[.all] = 0
                return try m.lm_head.output[0, -1]
            }
            ablated.append((layer, try Report.probability(of: answerId, in: logits)))
        }
        print("  Clean P(\(answer.trimmingCharacters(in: .whitespaces)))=\(Report.percent(cleanAnswer)). The MLPs whose removal hurts most:")
        for (layer, p) in ablated.sorted(by: { $0.p < $1.p }).prefix(5) {
            print(String(format: "  L%02d  ", layer) + "P=\(Report.percent(p))  \(Report.bar(p))")
        }

        Report.heading("4. Logit lens: the final norm and unembedding applied to each layer's output")
        var emerged: Int?
        let normPath = try finalNormPath(model)
        let lens = try model.trace(prompt) { m in
            try (0..<layers).map { layer in
                let hidden = try m.get("\(layerPath(model)).\(layer)").output
                return try m.lm_head(try m.get(normPath)(hidden))[0, -1]
            }
        }
        for (layer, logits) in lens.enumerated() {
            let (id, p) = try Report.top(logits, 1)[0]
            let pAnswer = try Report.probability(of: answerId, in: logits)
            if emerged == nil && id == answerId { emerged = layer }
            print(String(format: "  L%02d  ", layer) + "top \(Report.token(id, tokenizer).padding(toLength: 14, withPad: " ", startingAt: 0)) \(Report.percent(p))   P(\(answer.trimmingCharacters(in: .whitespaces)))=\(Report.percent(pAnswer))")
        }
        if let emerged {
            print("  \"\(answer.trimmingCharacters(in: .whitespaces))\" first becomes the top prediction at layer \(emerged).")
        } else {
            print("  \"\(answer.trimmingCharacters(in: .whitespaces))\" never becomes the top prediction of an intermediate layer.")
        }
        try chatSection(model)
        print("\nDone in \(String(format: "%.1f", Date().timeIntervalSince(started))) s.")
    }
}

extension DemoCommand {
    /// Section 5: the instruct model answers `--chat` through the chat template its checkpoint
    /// carries (GGUF `tokenizer.chat_template` or `tokenizer_config.json`).
    func chatSection(_ model: LanguageModel) throws {
        Report.heading("5. Chat: \"\(chat)\" through the model's own chat template")
        guard model.tokenizer.chatTemplateSource != nil else {
            print("  This checkpoint has no chat template; skipped.")
            return
        }
        let conversation = Chat([.user(chat)])
        let prompt = try model.tokenizer.applyChatTemplate(conversation.messages, addGenerationPrompt: true)
        print("  Prompt: " + prompt.debugDescription)
        let promptLength = try model.tokenRows(conversation)[0].count
        let ids = try model.generate(conversation, maxNewTokens: 24) { _, t in try t.result() }
        let generated = Array(try ids.toArray(Int.self).dropFirst(promptLength))
        print("  Answer (greedy): " + model.tokenizer.decode(generated, skipSpecialTokens: true).debugDescription)
    }
}

/// The dotted path of the decoder blocks (`transformer.h` for GPT-2, `model.layers` for Llama).
func layerPath(_ model: LanguageModel) throws -> String {
    for candidate in ["model.layers", "transformer.h"] where (try? model.root.get(candidate)) != nil { return candidate }
    throw ValidationError("cannot find the decoder blocks of this architecture")
}

/// The dotted path of the final norm before the unembedding.
func finalNormPath(_ model: LanguageModel) throws -> String {
    for candidate in ["model.norm", "transformer.ln_f"] where (try? model.root.get(candidate)) != nil { return candidate }
    throw ValidationError("cannot find the final norm of this architecture")
}
