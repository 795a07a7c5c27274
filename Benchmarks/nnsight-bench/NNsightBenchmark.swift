import ArgumentParser
import Foundation
import NNsightModels
import NNsightNN
import NNsight
import NNsightTorch

/// The cost of tracing against Python nnsight 0.8.1 on the same models and thread count.
struct NNsightBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nnsight", abstract: "Trace overhead: Swift vs Python nnsight, and vs our own raw forward.")

    @Option(help: "Timed rounds (tiny and marginal scenarios); each round times every case once.")
    var rounds = 2000

    @Option(help: "Timed rounds of the GPT-2-small-shaped forward.")
    var gpt2Repeats = 20

    @Option(help: "Scenarios to run: tiny, marginal, gpt2-small (default: all).")
    var only: [String] = ["tiny", "marginal", "gpt2-small"]

    @Flag(help: "Skip the Python reference (Swift figures only).")
    var swiftOnly = false

    /// The fields of Benchmarks/python/nnsight_bench.py's JSON that are compared.
    private struct PythonResult: Decodable {
        struct Tiny: Decodable { let raw_forward_us: Timing; let trace_save_us: Timing }
        struct Accesses: Decodable { let per_k_us: [String: Timing] }
        struct Marginal: Decodable { let reads: Accesses }
        struct GPT2: Decodable { let raw_forward_ms: Timing; let trace_save_all_ms: Timing }
        let versions: [String: String]
        let tiny: Tiny?
        let marginal: Marginal?
        let gpt2_small: GPT2?
    }

    func run() throws {
        for name in only where !["tiny", "marginal", "gpt2-small"].contains(name) {
            throw ValidationError("unknown scenario \(name)")
        }
        try Torch.setNumThreads(1)
        try Torch.manualSeed(0)
        let python = swiftOnly ? nil : try Reference.run(
            "nnsight_bench.py", arguments: only.count == 1 ? ["--only", only[0].replacingOccurrences(of: "-", with: "_")] : [],
            as: PythonResult.self)
        print("µs or ms per call: best sample (median) over interleaved rounds, the rule of nnsight_bench.py on both "
            + "sides: a trace sample is one call, a raw-forward sample the mean of 10 calls")
        if only.contains("tiny") { try tiny(python?.tiny) }
        if only.contains("marginal") { try marginal(python?.marginal) }
        if only.contains("gpt2-small") { try gpt2Small(python?.gpt2_small) }
        if let versions = python?.versions {
            print("Python reference: " + versions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
    }

    /// The fixed cost of a trace that reads one output of a tiny model.
    private func tiny(_ python: PythonResult.Tiny?) throws {
        let tiny = NNsightModel(Sequential(named: [("layer1", try Linear(5, 10)), ("layer2", try Linear(10, 2))]))
        let x = try Tensor.rand([1, 5])
        let raw = try interleavedTimes(rounds: rounds, warmup: rounds / 10, inner: 10, unitNanoseconds: 1e3, [
            { _ = try tiny.module(x) },
        ])[0]
        let traced = try interleavedTimes(rounds: rounds, warmup: rounds / 10, unitNanoseconds: 1e3, [
            { _ = try tiny.trace(x) { m in try m.layer1.output } },
        ])[0]
        let times = [raw, traced]
        print("\nTiny model (Linear 5→10→2), µs per call (\(rounds) rounds)")
        print(row("", "Swift", "Python", "Swift/Python"))
        print(row("raw forward", times[0], python?.raw_forward_us))
        print(row("trace reading layer1.output", times[1], python?.trace_save_us))
        print(row("fixed cost of a trace", times[1] - times[0], python.map { $0.trace_save_us - $0.raw_forward_us }))
    }

    /// The marginal cost of each additional read.
    private func marginal(_ python: PythonResult.Marginal?) throws {
        let stack = NNsightModel(Sequential(try (0..<12).map { _ in try Linear(8, 8) }))
        let input = try Tensor.rand([1, 8])
        let ks = [1, 2, 4, 8, 12]
        let times = try interleavedTimes(rounds: rounds, warmup: rounds / 10, unitNanoseconds: 1e3, ks.map { k in
            { _ = try stack.trace(input) { m in try (0..<k).map { try m[$0].output } } }
        })
        let swift = Dictionary(uniqueKeysWithValues: zip(ks, times))
        let reads = python?.reads.per_k_us
        print("\n12 × Linear(8, 8), trace reading the first k outputs, µs per trace")
        print(row("", "Swift", "Python", "Swift/Python"))
        for k in ks { print(row("k = \(k)", swift[k]!, reads?[String(k)])) }
        let pythonMarginal = reads.flatMap { reads in reads["12"].flatMap { last in reads["1"].map { last - $0 } } }
        print(row("marginal µs per read (k 1 → 12)", (swift[12]! - swift[1]!).scaled(by: 1.0 / 11),
                  pythonMarginal?.scaled(by: 1.0 / 11)))
        // nnsight_bench.py's own figure: the least-squares slope of the medians over k.
        let slope = { (medians: [Double]) -> Double in
            let meanK = Double(ks.reduce(0, +)) / Double(ks.count), meanT = medians.reduce(0, +) / Double(ks.count)
            let covariance = zip(ks, medians).reduce(0) { $0 + (Double($1.0) - meanK) * ($1.1 - meanT) }
            return covariance / ks.reduce(0) { $0 + (Double($1) - meanK) * (Double($1) - meanK) }
        }
        let swiftSlope = slope(ks.map { swift[$0]!.median })
        let pythonSlope = reads.map { reads in slope(ks.map { reads[String($0)]?.median ?? .nan }) }
        print(row("marginal µs/read, slope of medians", String(format: "%.2f", swiftSlope),
                  pythonSlope.map { String(format: "%.2f", $0) } ?? "-",
                  pythonSlope.map { String(format: "%.3f", swiftSlope / $0) } ?? "-"))
    }

    /// A GPT-2-small-shaped forward saving every block's output.
    private func gpt2Small(_ python: PythonResult.GPT2?) throws {
        let gpt2 = try GPT2LMHeadModel(GPT2Config())
        gpt2.eval()
        let wrapped = NNsightModel(gpt2)
        let ids = try Tensor.randint(0, 50257, [1, 16], generator: Generator(seed: 0))
        let times = try interleavedTimes(rounds: gpt2Repeats, warmup: 2, unitNanoseconds: 1e6, [
            { _ = try gpt2(ids) },
            { _ = try wrapped.trace(ids) { m in try (0..<12).map { try m.transformer.h[$0].output } } },
        ])
        print("\nGPT-2-small shape (random weights), 16 tokens, ms per forward (\(gpt2Repeats) rounds)")
        print(row("", "Swift", "Python", "Swift/Python"))
        print(row("raw forward", times[0], python?.raw_forward_ms))
        print(row("trace saving 12 block outputs", times[1], python?.trace_save_all_ms))
        print(String(format: "  Swift trace / Swift raw forward: %.3f best, %.3f median", times[1].best / times[0].best,
                     times[1].median / times[0].median)
            + (python.map { String(format: "   (Python nnsight trace / Python raw: %.3f best)",
                                   $0.trace_save_all_ms.best / $0.raw_forward_ms.best) } ?? ""))
        // The same overhead measured directly (the wall-time ratio of two runs of one forward
        // moves by ±3% here between identical cases): what the model's thread waited for the
        // invoke per trace, its closure's code and the handoffs included.
        let traces = 10
        let (_, waits) = try InvokeWaits.measuring {
            for _ in 0..<traces { _ = try wrapped.trace(ids) { m in try (0..<12).map { try m.transformer.h[$0].output } } }
        }
        let perTrace = (waits.total / traces).milliseconds
        print(String(format: "  model thread waiting for the invoke: %.3f ms per trace = %.2f%% of the best raw forward "
                     + "(%.1f waits per trace, %.1f over 50 µs)", perTrace, 100 * perTrace / times[0].best,
                     Double(waits.count) / Double(traces), Double(waits.longCount) / Double(traces)))
    }

    private func row(_ name: String, _ swift: String, _ python: String, _ ratio: String) -> String {
        name.padding(toLength: 34, withPad: " ", startingAt: 0) + swift.leftPadded(16) + python.leftPadded(16) + ratio.leftPadded(14)
    }

    /// Best and (median), and the ratio of the best times.
    private func row(_ name: String, _ swift: Timing, _ python: Timing?) -> String {
        row(name, swift.formatted(), python?.formatted() ?? "-", python.map { String(format: "%.3f", swift.best / $0.best) } ?? "-")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

extension Duration {
    var milliseconds: Double { Double(components.seconds) * 1e3 + Double(components.attoseconds) / 1e15 }
}
