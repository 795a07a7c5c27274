import ArgumentParser
import Foundation
import NNsightTorch
import NNsightTorchBaseline

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
        // (name, Swift timing, C++ baseline op name)
        let swift: [(String, Double, String)] = [
            ("add 4 + 4", try nanosecondsPerCall(iterations: iterations) { _ = try a + b }, "add"),
            ("mul by scalar", try nanosecondsPerCall(iterations: iterations) { _ = try a * 2.0 }, "mul_scalar"),
            ("matmul [1,64]x[64,64]", try nanosecondsPerCall(iterations: iterations) { _ = try row.matmul(w) }, "matmul"),
            ("index x[..., -1]", try nanosecondsPerCall(iterations: iterations) { _ = try x.index([.ellipsis, -1]) }, "index"),
            ("sum", try nanosecondsPerCall(iterations: iterations) { _ = try a.sum() }, "sum"),
            ("softmax dim -1", try nanosecondsPerCall(iterations: iterations) { _ = try x.softmax(dim: -1) }, "softmax"),
        ]
        let python = try Reference.run("ops_bench.py", arguments: [String(iterations)], as: PythonResult.self)
        print("Per-op time, 1 intra-op thread (libtorch \(Torch.runtimeVersion); Python torch \(python.torch))")
        print("Overhead = time per call minus the same op called from C++ on libtorch (the floor).")
        print("op".padding(toLength: 24, withPad: " ", startingAt: 0)
            + "    C++ µs  Swift µs Python µs | Swift ovh Python ovh  ovh ratio")
        for (name, nanoseconds, baselineName) in swift {
            let reference = python.ops[name] ?? .nan
            let floor = torch_baseline_ns_per_call(baselineName, Int(iterations))
            let ours = nanoseconds - floor, theirs = reference - floor
            print(name.padding(toLength: 24, withPad: " ", startingAt: 0)
                + String(format: " %9.3f %9.3f %9.3f | %9.3f %10.3f %10.2f", floor / 1000, nanoseconds / 1000,
                         reference / 1000, ours / 1000, theirs / 1000, ours / theirs))
        }
    }
}
