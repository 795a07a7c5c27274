// nnsight-bench: benchmarks that time swift-nnsight and its Python reference in one run and
// print the ratio. Build in release: `swift run -c release nnsight-bench <benchmark>`.
import ArgumentParser

@main
struct NNsightBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nnsight-bench",
        abstract: "Benchmarks of swift-nnsight against its Python reference, printed as ratios.",
        subcommands: [
            OpsBenchmark.self,
            TokenizersBenchmark.self,
            ModelsBenchmark.self,
            NNsightBenchmark.self,
            GenerationBenchmark.self,
            ProfileBenchmark.self,
            SoakBenchmark.self,
            GGUFBenchmark.self,
            SourceBenchmark.self,
            RemoteBenchmark.self,
        ]
    )
}
