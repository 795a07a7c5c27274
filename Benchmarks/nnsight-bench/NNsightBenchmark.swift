import ArgumentParser
import Foundation
import Models
import NN
import NNsight
import Torch

/// The cost of tracing against Python nnsight 0.8.1 on the same models and thread count.
struct NNsightBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nnsight", abstract: "Trace overhead: Swift vs Python nnsight, and vs our own raw forward.")

    @Option(help: "Repeats per timing (tiny and marginal scenarios).")
    var repeats = 20_000

    @Option(help: "Repeats of the GPT-2-small-shaped forward.")
    var gpt2Repeats = 20

    @Flag(help: "Skip the Python reference (Swift figures only).")
    var swiftOnly = false

    /// The fields of Benchmarks/python/nnsight_bench.py's JSON that are compared (best times).
    private struct PythonResult: Decodable {
        struct Timing: Decodable { let best: Double }
        struct Tiny: Decodable { let raw_forward_us: Timing; let trace_save_us: Timing }
        struct Accesses: Decodable { let per_k_us: [String: Timing] }
        struct Marginal: Decodable { let reads: Accesses }
        struct GPT2: Decodable { let raw_forward_ms: Timing; let trace_save_all_ms: Timing }
        let versions: [String: String]
        let tiny: Tiny
        let marginal: Marginal
        let gpt2_small: GPT2
    }

    func run() throws {
        try Torch.setNumThreads(1)
        try Torch.manualSeed(0)
        let python = swiftOnly ? nil : try Reference.run("nnsight_bench.py", as: PythonResult.self)

        // The fixed cost of a trace that reads one output of a tiny model.
        let tiny = NNsight(Sequential(named: [("layer1", try Linear(5, 10)), ("layer2", try Linear(10, 2))]))
        let x = try Tensor.rand([1, 5])
        let raw = try nanosecondsPerCall(iterations: repeats) { _ = try tiny.module(x) } / 1000
        let traced = try nanosecondsPerCall(iterations: repeats) { _ = try tiny.trace(x) { m in try m.layer1.output } } / 1000
        print("Tiny model (Linear 5→10→2), 1 thread, µs per call")
        print(row("", "Swift", "Python", "Swift/Python"))
        print(row("raw forward", raw, python?.tiny.raw_forward_us.best))
        print(row("trace reading layer1.output", traced, python?.tiny.trace_save_us.best))
        print(row("fixed cost of a trace", traced - raw, python.map { $0.tiny.trace_save_us.best - $0.tiny.raw_forward_us.best }))

        // The marginal cost of each additional read.
        let stack = NNsight(Sequential(try (0..<12).map { _ in try Linear(8, 8) }))
        let input = try Tensor.rand([1, 8])
        var readCosts: [Int: Double] = [:]
        for k in [1, 2, 4, 8, 12] {
            readCosts[k] = try nanosecondsPerCall(iterations: repeats / 4) {
                _ = try stack.trace(input) { m in try (0..<k).map { try m[$0].output } }
            } / 1000
        }
        let marginal = (readCosts[12]! - readCosts[1]!) / 11
        print("\n12 × Linear(8, 8), trace reading the first k outputs, µs per trace")
        print(row("", "Swift", "Python", "Swift/Python"))
        let pythonReads = python?.marginal.reads.per_k_us.mapValues(\.best)
        for k in [1, 2, 4, 8, 12] { print(row("k = \(k)", readCosts[k]!, pythonReads?[String(k)])) }
        let pythonMarginal = pythonReads.flatMap { reads in reads["12"].flatMap { last in reads["1"].map { (last - $0) / 11 } } }
        print(row("marginal µs per read", marginal, pythonMarginal))

        // A GPT-2-small-shaped forward saving every block's output.
        let gpt2 = try GPT2LMHeadModel(GPT2Config())
        gpt2.eval()
        let wrapped = NNsight(gpt2)
        let ids = try Tensor.randint(0, 50257, [1, 16], generator: Generator(seed: 0))
        let rawForward = try millisecondsPerCall(repeats: gpt2Repeats) { _ = try gpt2(ids) }
        let savedAll = try millisecondsPerCall(repeats: gpt2Repeats) {
            _ = try wrapped.trace(ids) { m in try (0..<12).map { try m.transformer.h[$0].output } }
        }
        print("\nGPT-2-small shape (random weights), 16 tokens, ms per forward")
        print(row("", "Swift", "Python", "Swift/Python"))
        print(row("raw forward", rawForward, python?.gpt2_small.raw_forward_ms.best))
        print(row("trace saving 12 block outputs", savedAll, python?.gpt2_small.trace_save_all_ms.best))
        print(String(format: "  Swift trace / Swift raw forward: %.3f", savedAll / rawForward)
              + (python.map { String(format: "   (Python nnsight trace / Python raw: %.3f)", $0.gpt2_small.trace_save_all_ms.best / $0.gpt2_small.raw_forward_ms.best) } ?? ""))
        if let versions = python?.versions {
            print("Python reference: " + versions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
    }

    private func row(_ name: String, _ swift: String, _ python: String, _ ratio: String) -> String {
        name.padding(toLength: 32, withPad: " ", startingAt: 0) + swift.leftPadded(10) + python.leftPadded(10) + ratio.leftPadded(14)
    }

    private func row(_ name: String, _ swift: Double, _ python: Double?) -> String {
        row(name, String(format: "%.2f", swift), python.map { String(format: "%.2f", $0) } ?? "-",
            python.map { String(format: "%.3f", swift / $0) } ?? "-")
    }
}

/// Best-of-repeats milliseconds per call after one warm-up.
func millisecondsPerCall(repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    try body()
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    return best
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
