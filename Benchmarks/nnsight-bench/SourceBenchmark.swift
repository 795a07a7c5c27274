import ArgumentParser
import Foundation
import NNsight
import NNsightModels
import NNsightNN
import NNsightTorch

/// The cost of `.source`: the marked forward with nothing asked against the same forward
/// unmarked, a trace reading every layer's attention pattern against the raw forward (beside
/// Python nnsight's same scenario), and the first `.source` access.
struct SourceBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "source", abstract: "`.source` overhead: marked vs unmarked forward, attention pattern traces, first access.")

    @Option(help: "Timed rounds of each GPT-2-small-shaped case.")
    var rounds = 30

    @Flag(help: "Skip the Python reference (Swift figures only).")
    var swiftOnly = false

    private struct PythonResult: Decodable {
        let versions: [String: String]
        let softmax_op: String
        let raw_forward_ms: Timing
        let trace_pattern_ms: Timing
        let first_source_ms: Double
    }

    func run() throws {
        try Torch.setNumThreads(1)
        try Torch.manualSeed(0)
        let python = swiftOnly ? nil : try Reference.run("source_bench.py", arguments: ["--repeats", String(rounds)],
                                                         as: PythonResult.self)
        print("ms per call: best sample (median) over \(rounds) interleaved rounds")
        try markedAgainstPlain()
        try patternTrace(python)
        if let python {
            print("Python reference: " + python.versions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                .joined(separator: ", ") + "; pattern op \(python.softmax_op)")
        }
    }

    /// 12 GPT-2-small blocks on [1, 16, 768], marked and unmarked, same weights' shapes.
    private func markedAgainstPlain() throws {
        let plain = Sequential(try (0..<12).map { _ in try PlainBlock(width: 768, heads: 12) })
        let marked = Sequential(try (0..<12).map { _ in try MarkedBlock(width: 768, heads: 12) })
        // The same weights in both, so both run the same arithmetic.
        for ((_, a), (_, b)) in zip(plain.namedParameters(), marked.namedParameters()) { b.value = a.value }
        for stack in [plain, marked] {
            stack.eval()
            try stack.packLinearWeights()
        }
        let hidden = try Tensor.randn([1, 16, 768], generator: Generator(seed: 0))
        let times = try interleavedTimes(rounds: rounds * 2, warmup: 3, unitNanoseconds: 1e6, [
            { _ = try plain(hidden) },
            { _ = try marked(hidden) },
            { _ = try plain(hidden) },
        ])
        print("\n12 GPT-2-small blocks, 16 tokens: @Sourced forward with no .source request vs the same forward unmarked")
        print(row("unmarked", times[0].formatted(), ""))
        print(row("marked, nothing asked", times[1].formatted(),
                  String(format: "%.3f best, %.3f median", times[1].best / times[0].best, times[1].median / times[0].median)))
        print(row("unmarked again (noise floor)", times[2].formatted(),
                  String(format: "%.3f best, %.3f median", times[2].best / times[0].best, times[2].median / times[0].median)))
    }

    /// GPT2LMHeadModel(GPT2Config()): raw forward vs a trace reading all 12 attention patterns.
    private func patternTrace(_ python: PythonResult?) throws {
        let gpt2 = try GPT2LMHeadModel(GPT2Config())
        gpt2.eval()
        let wrapped = NNsightModel(gpt2)
        let ids = try Tensor.randint(0, 50257, [1, 16], generator: Generator(seed: 0))

        // First `.source` access: the listing is compiled in; the envoys of the layer's points are
        // made on first use. Timed once per layer on the fresh model.
        var firsts: [Double] = []
        for layer in 0..<12 {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try wrapped.root.transformer.h[layer].attn.source.pattern_0
            firsts.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        let firstMedian = firsts.sorted()[firsts.count / 2]

        let times = try interleavedTimes(rounds: rounds, warmup: 2, unitNanoseconds: 1e6, [
            { _ = try gpt2(ids) },
            { _ = try wrapped.trace(ids) { m in try (0..<12).map { try m.transformer.h[$0].attn.source.pattern_0.output } } },
        ])
        print("\nGPT-2-small shape (random weights), 16 tokens: trace reading the attention pattern of all 12 layers")
        print(row("", "Swift", "Python"))
        print(row("raw forward", times[0].formatted(), python?.raw_forward_ms.formatted() ?? "-"))
        print(row("trace, 12 patterns", times[1].formatted(), python?.trace_pattern_ms.formatted() ?? "-"))
        print(row("trace / raw forward (best)", String(format: "%.3f", times[1].best / times[0].best),
                  python.map { String(format: "%.3f", $0.trace_pattern_ms.best / $0.raw_forward_ms.best) } ?? "-"))
        print(row("trace / raw forward (median)", String(format: "%.3f", times[1].median / times[0].median),
                  python.map { String(format: "%.3f", $0.trace_pattern_ms.median / $0.raw_forward_ms.median) } ?? "-"))
        print(row("first .source access, ms (median of 12 layers)", String(format: "%.4f", firstMedian),
                  python.map { String(format: "%.4f", $0.first_source_ms) } ?? "-"))
    }

    private func row(_ name: String, _ swift: String, _ python: String) -> String {
        name.padding(toLength: 48, withPad: " ", startingAt: 0) + swift.leftPadded(22) + python.leftPadded(22)
    }
}
