import ArgumentParser
import Foundation
import NNsightModels
import NNsightNN
import NNsight
import NNsightTorch

/// Issue 6's performance items on a GPT-2-small-shaped model: generation that saves the last
/// block's output at every step against our own raw generation (target ≤ 1.03×), and a trace that
/// caches every module against the raw forward (target ≤ 1.05×) with the cache's memory, each
/// beside Python nnsight 0.8.1 (Benchmarks/python/nnsight_generation_bench.py).
struct GenerationBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generation",
        abstract: "Generation saving h[-1] per step, and cache-all traces: Swift vs raw and vs Python nnsight.")

    @Option(help: "Timed rounds of the generation cases (each round runs every case once).")
    var repeats = 10

    @Option(help: "Timed rounds of the 16-token forward and cache cases.")
    var cacheRepeats = 20

    @Flag(help: "Skip the Python reference (Swift figures only).")
    var swiftOnly = false

    static let newTokens = 20
    static let generationTarget = 1.03
    static let cacheTarget = 1.05

    /// The fields of nnsight_generation_bench.py's JSON that are compared.
    private struct PythonResult: Decodable {
        struct Generation: Decodable {
            let raw_generate_ms: Timing
            let nnsight_generate_ms: Timing
        }
        struct CacheRun: Decodable {
            let raw_forward_ms: Timing
            let cache_trace_ms: Timing
            let cached_tensors: Int
            let cached_bytes: Int
            let distinct_storages: Int
            let compared_with_live: Int
            let sharing_live_storage: Int
        }
        let versions: [String: String]
        let generation: Generation
        let cache: CacheRun
    }

    func run() throws {
        try Torch.setNumThreads(1)
        try Torch.manualSeed(0)
        let python = swiftOnly ? nil : try Reference.run(
            "nnsight_generation_bench.py", arguments: ["--repeats", "\(repeats)"], as: PythonResult.self)

        let gpt2 = try GPT2LMHeadModel(GPT2Config())
        gpt2.eval()
        let model = NNsightModel(gpt2)
        let ids = try Tensor.randint(0, 50257, [1, 16], generator: Generator(seed: 0))

        // Generation: 20 greedy tokens, no EOS, raw vs saving transformer.h[-1] at every step.
        let options = GenerationOptions(maxNewTokens: Self.newTokens)
        let rawGenerate = { try NNsightModels.generate(gpt2, inputIds: ids, options: options) }
        let tracedGenerate = {
            try model.generate(ids, maxNewTokens: Self.newTokens) { m, t in
                var saved: [Tensor] = []
                for _ in t.all() { saved.append(try m.transformer.h[-1].output) }
                return (saved, try t.result())
            }
        }
        let (saved, tracedIds) = try tracedGenerate()
        guard saved.count == Self.newTokens, saved[0].shape == [1, 16, 768], saved[1].shape == [1, 1, 768],
              try tracedIds.equal(rawGenerate()), tracedIds.shape == [1, 16 + Self.newTokens] else {
            throw ReferenceError(message: "traced generation disagrees with raw generation")
        }
        let generation = try interleavedTimes(rounds: repeats, warmup: 2, unitNanoseconds: 1e6, [
            { _ = try rawGenerate() },
            { _ = try tracedGenerate() },
        ])
        let (rawGen, tracedGen) = (generation[0], generation[1])

        print("GPT-2-small shape (random weights), 16-token prompt, \(Self.newTokens) new tokens greedy (EOS off), 1 thread")
        print("ms per generation, best (median) of \(repeats) interleaved rounds")
        print(header())
        print(row("raw generate", rawGen, python?.generation.raw_generate_ms))
        print(row("generate saving h[-1] each step", tracedGen, python?.generation.nnsight_generate_ms))
        print(targetLine("Swift traced / Swift raw", tracedGen, rawGen, target: Self.generationTarget))
        if let python {
            print(ratioLine("Python nnsight / Python raw", python.generation.nnsight_generate_ms, python.generation.raw_generate_ms))
            print(ratioLine("Swift traced / Python nnsight", tracedGen, python.generation.nnsight_generate_ms))
        }

        // Cache of every module over a 16-token forward.
        let cacheAll = { try model.trace(ids) { _, t in try t.cache() } }
        let rssBefore = peakRSSMiB()
        let forward = try interleavedTimes(rounds: cacheRepeats, warmup: 3, unitNanoseconds: 1e6, [
            { _ = try gpt2(ids) },
            { _ = try cacheAll() },
        ])
        let rssAfter = peakRSSMiB()
        let (rawForward, cacheTrace) = (forward[0], forward[1])
        print("\nCache of every module, 16 tokens, ms per forward, best (median) of \(cacheRepeats) interleaved rounds")
        print(header())
        print(row("raw forward", rawForward, python?.cache.raw_forward_ms))
        print(row("trace with tracer.cache()", cacheTrace, python?.cache.cache_trace_ms))
        print(targetLine("Swift cache / Swift raw", cacheTrace, rawForward, target: Self.cacheTarget))
        if let python {
            print(ratioLine("Python nnsight / Python raw", python.cache.cache_trace_ms, python.cache.raw_forward_ms))
        }

        // The cache's memory: what it holds, and whether any of it is a copy of a live activation.
        var live: [String: Tensor] = [:]
        let handles = gpt2.namedModules().map { entry in
            let path = entry.name.isEmpty ? "model" : "model." + entry.name
            return entry.module.registerForwardHook { _, _, output in
                live[path] = output
                return nil
            }
        }
        let cache = try cacheAll()
        handles.forEach { $0.remove() }
        let tensors = try cache.paths.flatMap { try cache[$0].outputs }
        let bytes = tensors.reduce(0) { $0 + $1.shape.reduce(1, *) * $1.dtype.byteCount }
        var storages: [Tensor] = []  // one representative (the largest view) per distinct storage
        for tensor in tensors {
            if let index = storages.firstIndex(where: { $0.sharesStorage(with: tensor) }) {
                if tensor.shape.reduce(1, *) > storages[index].shape.reduce(1, *) { storages[index] = tensor }
            } else {
                storages.append(tensor)
            }
        }
        let storageBytes = storages.reduce(0) { $0 + $1.shape.reduce(1, *) * $1.dtype.byteCount }
        let compared = try cache.paths.filter { try live[$0] != nil && !cache[$0].outputs.isEmpty }
        let sharing = try compared.filter { try cache[$0].output.sharesStorage(with: live[$0]!) }.count
        let copies = try tensors.map { try $0.clone() }
        let copyStorages = copies.indices.filter { i in !copies[..<i].contains { $0.sharesStorage(with: copies[i]) } }.count
        let mib = { (bytes: Int) in String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        print("\nCache memory (one cache of every module's output, 16 tokens)")
        print("  Swift:  \(cache.count) modules, \(tensors.count) tensors, \(mib(bytes)) if each were its own copy; "
              + "\(storages.count) distinct storages (≈ \(mib(storageBytes)), largest view each); "
              + "\(sharing)/\(compared.count) share storage with the module's live output")
        print("  copy baseline (clone() of each cached tensor): \(copyStorages) distinct storages, \(mib(bytes)) more")
        if let p = python?.cache {
            print("  Python: \(p.cached_tensors) tensors, \(mib(p.cached_bytes)) if each were its own copy; "
                  + "\(p.distinct_storages) distinct storages; "
                  + "\(p.sharing_live_storage)/\(p.compared_with_live) share storage with the module's live output")
        }
        print(String(format: "  peak RSS (getrusage): %.1f MiB before the forward/cache rounds, %.1f MiB after (+%.1f MiB)",
                     rssBefore, rssAfter, rssAfter - rssBefore))
        if let versions = python?.versions {
            print("Python reference: " + versions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
    }

    private func header() -> String {
        "".padding(toLength: 34, withPad: " ", startingAt: 0) + "Swift".leftPadded(17) + "Python".leftPadded(17)
            + "Swift/Python".leftPadded(14)
    }

    private func row(_ name: String, _ swift: Timing, _ python: Timing?) -> String {
        name.padding(toLength: 34, withPad: " ", startingAt: 0) + swift.formatted(digits: 1).leftPadded(17)
            + (python?.formatted(digits: 1) ?? "-").leftPadded(17)
            + (python.map { String(format: "%.3f", swift.best / $0.best) } ?? "-").leftPadded(14)
    }

    private func targetLine(_ name: String, _ traced: Timing, _ raw: Timing, target: Double) -> String {
        let best = traced.best / raw.best
        return String(format: "  %@: %.3f best, %.3f median (target ≤ %.2f: %@)", name, best, traced.median / raw.median,
                      target, best <= target ? "met" : "not met")
    }

    private func ratioLine(_ name: String, _ a: Timing, _ b: Timing) -> String {
        String(format: "  %@: %.3f best, %.3f median", name, a.best / b.best, a.median / b.median)
    }
}
