import ArgumentParser
import Foundation
import Torch

/// Per-op overhead of small ops from Swift against the same ops from Python torch, in one run.
struct OpsBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops", abstract: "Per-op overhead of small tensor ops: Swift vs Python torch.")

    @Option(help: "Calls per timing round.")
    var iterations = 200_000

    private struct PythonResult: Decodable {
        let torch: String
        let ops: [String: Double]
    }

    func run() throws {
        try Torch.setNumThreads(1)
        let a = try Tensor.rand([4]), b = try Tensor.rand([4])
        let row = try Tensor.rand([1, 64]), w = try Tensor.rand([64, 64])
        let x = try Tensor.rand([8, 16])
        let swift: [(String, Double)] = [
            ("add 4 + 4", try nanosecondsPerCall(iterations: iterations) { _ = try a + b }),
            ("mul by scalar", try nanosecondsPerCall(iterations: iterations) { _ = try a * 2.0 }),
            ("matmul [1,64]x[64,64]", try nanosecondsPerCall(iterations: iterations) { _ = try row.matmul(w) }),
            ("index x[..., -1]", try nanosecondsPerCall(iterations: iterations) { _ = try x.index([.ellipsis, -1]) }),
            ("sum", try nanosecondsPerCall(iterations: iterations) { _ = try a.sum() }),
            ("softmax dim -1", try nanosecondsPerCall(iterations: iterations) { _ = try x.softmax(dim: -1) }),
        ]
        let python = try Reference.run("ops_bench.py", arguments: [String(iterations)], as: PythonResult.self)
        print("Per-op time, 1 intra-op thread (libtorch \(Torch.runtimeVersion); Python torch \(python.torch))")
        print("op".padding(toLength: 26, withPad: " ", startingAt: 0) + "   Swift µs   Python µs   Swift/Python")
        for (name, nanoseconds) in swift {
            let reference = python.ops[name] ?? .nan
            print(name.padding(toLength: 26, withPad: " ", startingAt: 0)
                + String(format: " %10.3f  %10.3f   %8.2f", nanoseconds / 1000, reference / 1000, nanoseconds / reference))
        }
    }
}
