import ArgumentParser
import Foundation
import NNsight
import NNsightSoak
import NNsightTorch

/// The reliability soak (Benchmarks/NNsightSoak): N failing interventions of every kind in one
/// process on the default model, then the leak, model and concurrency checks. Not a timing: it
/// prints what it found and exits non-zero if a target was missed.
struct SoakBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "N failing interventions on the default model; checks errors, threads, memory, the model, concurrency.")

    @Option(name: .customLong("n"), help: "Failing interventions, cycling through every failure kind.")
    var iterations = 10_000

    @Option(help: "A failure kind to leave out (one that crashes the process, to measure the rest); the report names it and the soak fails.")
    var skip: [String] = []

    @Option(help: "Threads of the concurrent phase.")
    var threads = 4

    @Option(help: "Traces per thread in the concurrent phase.")
    var tracesPerThread = 25

    @Option(help: "The model (default: the default model that scripts/setup unpacks).")
    var model = Reference.smolLM2Path

    func run() throws {
        let skipped = try skip.map { name in
            guard let kind = FailureKind(rawValue: name) else {
                throw ValidationError("unknown failure kind \(name); kinds: \(FailureKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return kind
        }
        let kinds = FailureKind.allCases.filter { !skipped.contains($0) }
        try Torch.setNumThreads(1)
        let language = try LanguageModel(path: model, dispatch: true)
        print("soak: \(iterations) failing interventions on \(URL(fileURLWithPath: model).lastPathComponent),"
            + " \(kinds.count) kinds, libtorch intra-op threads 1")
        let report = try Soak(model: language).run(
            iterations: iterations, kinds: kinds, threads: threads, tracesPerThread: tracesPerThread,
            progress: { done in
                let stats = ProcessStats.current()
                print("  \(done) done" + (stats.map { String(format: ", %d threads, %.1f MiB resident", $0.threads, Double($0.residentBytes) / 1_048_576) } ?? ""))
            })
        print(report.text)
        if !report.passed { throw ExitCode.failure }
    }
}
