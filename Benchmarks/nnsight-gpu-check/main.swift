// nnsight-gpu-check: every check of issue 15's "Prove it on a GPU" list in one run (Checks.swift),
// then the GPU benchmarks (GPUBenchmarks.swift). scripts/gpu/README.md says how to run it.
import Foundation

do {
    exit(runChecks(try Options(CommandLine.arguments)))
} catch {
    print(error)
    exit(2)
}
