import ArgumentParser
import Foundation
import NNsightModels
import NNsightNN
import NNsightTorch

/// `nnsight-bench models`: prefill, decoding and batched generation of GPT-2-small-shaped and
/// SmolLM2-135M models, Swift (`Models`) against transformers (PyTorch eager,
/// Benchmarks/python/models_bench.py) in one run, with the same thread count, shapes and
/// measurement rules; plus decoding against the machine's memory bandwidth and the peak RSS of
/// loading a checkpoint. The family shapes (``FamilyShapes``: GPT-NeoX, Gemma 2, Qwen3, OLMo-2,
/// Phi-3, Mixtral) add prefill and decode ratios and a peak-RSS-at-load check of their
/// memory-mapped safetensors checkpoints (growth ≤ 1.1× the weights).
struct ModelsBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Prefill, decode and batched generation: Swift Models vs transformers (eager), single-threaded.")

    @Option(help: "Prompt length.")
    var tokens = 16

    @Option(help: "Tokens to generate (decode and generate).")
    var newTokens = 20

    @Option(help: "Rows for batched generation.")
    var batch = 8

    @Option(help: "Timed repeats (the best is reported).")
    var repeats = 5

    @Option(help: "Intra-op threads on both sides.")
    var threads = 1

    @Option(help: "Shapes to run: gpt2-small, smollm2, and the family shapes \(FamilyShapes.all.joined(separator: ", ")).")
    var shape: [String] = ["gpt2-small", "smollm2"] + FamilyShapes.all

    @Flag(help: "Family shapes: only the load-RSS check (no prefill/decode timing, no transformers run).")
    var loadOnly = false

    struct PythonResult: Decodable {
        var transformers: String
        var attn_implementation: String?
        var parameters: Int
        var checkpoint_bytes: Int?
        var rss_before_load_mib: Double
        var rss_after_load_mib: Double
        var prefill_ms: Double
        var prefill_last_ms: Double
        var decode_ms_per_token: Double
        var generate_ms: Double?
        var generate_tokens_per_s: Double?
    }

    /// The Swift side's figures for one model and dtype.
    struct Figures {
        var prefillMs = 0.0
        var prefillLastMs = 0.0
        var decodeMsPerToken = 0.0
        var generateTokensPerSecond = 0.0

        /// The better of two measurements, figure by figure.
        func best(_ other: Figures) -> Figures {
            Figures(prefillMs: min(prefillMs, other.prefillMs), prefillLastMs: min(prefillLastMs, other.prefillLastMs),
                    decodeMsPerToken: min(decodeMsPerToken, other.decodeMsPerToken),
                    generateTokensPerSecond: max(generateTokensPerSecond, other.generateTokensPerSecond))
        }
    }

    func run() throws {
        try Torch.setNumThreads(threads)
        let smolPath = Reference.smolLM2Path
        let families = shape.filter(FamilyShapes.all.contains)
        let familyFolders = families.isEmpty ? [:] : try FamilyShapes.checkpoints(families)
        var familySummary: [String] = []

        // Loading first, so that peak RSS measures the checkpoint alone.
        var smol: (fp32: any CausalLanguageModel, bf16: any CausalLanguageModel, fileBytes: Int,
                   rssBefore: Double, rssAfter: Double, loadSeconds: Double)?
        if shape.contains("smollm2") && !loadOnly {
            let before = peakRSSMiB()
            let start = DispatchTime.now().uptimeNanoseconds
            let fp32 = try NNsightModels.load(path: smolPath).model
            let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let after = peakRSSMiB()
            let bf16 = try NNsightModels.load(path: smolPath, dtype: .bfloat16).model
            let size = try FileManager.default.attributesOfItem(atPath: smolPath)[.size] as? Int ?? 0
            smol = (fp32, bf16, size, before, after, loadSeconds)
        }
        let bandwidth = try measureBandwidth()

        print("Swift measured before and after the transformers runs, best of both kept")
        print("Models: Swift (libtorch \(Torch.runtimeVersion)) vs transformers (PyTorch eager), \(threads) intra-op thread(s), "
            + "prompt \(tokens) tokens, \(newTokens) new tokens, best of \(repeats)")
        print(String(format: "memory bandwidth, measured (sum of a 512 MiB float32 tensor): %.1f GB/s", bandwidth / 1e9))
        if !families.isEmpty || loadOnly { try warmUpLoading(families) }

        for name in shape {
            switch name {
            case "gpt2-small" where loadOnly:
                continue  // random weights made in place: nothing is loaded
            case "smollm2" where loadOnly:
                try measureGGUFLoad(smolPath)
            case "gpt2-small":
                let model = try GPT2LMHeadModel(GPT2Config(vocabSize: 50257, nPositions: 1024, nEmbd: 768, nLayer: 12, nHead: 12))
                model.eval()
                // Swift is measured before and after the Python runs (best kept), so that a change in
                // the load of this shared machine does not favour either side.
                var swift = try measure(model)
                let python1 = try python(["--shape", "gpt2-small", "--batch", "1"])
                let python8 = try python(["--shape", "gpt2-small", "--batch", String(batch)])
                swift = try swift.best(measure(model))
                print("")
                report(title: "gpt2-small (random weights)", model: model, swift: swift, python1: python1,
                       python8: python8, bandwidth: bandwidth)
            case "smollm2":
                guard let smol else { continue }
                var swift = try measure(smol.fp32)
                var swiftBF16 = try measure(smol.bf16, generateToo: false)
                let python1 = try python(["--shape", "smollm2", "--batch", "1"])
                let python8 = try python(["--shape", "smollm2", "--batch", String(batch)])
                swift = try swift.best(measure(smol.fp32))
                swiftBF16 = try swiftBF16.best(measure(smol.bf16, generateToo: false))
                print("")
                report(title: "SmolLM2-135M-Instruct (Q4_1 GGUF, dequantized)", model: smol.fp32, swift: swift,
                       python1: python1, python8: python8, bandwidth: bandwidth)
                let bf16Bytes = weightBytes(smol.bf16)
                let tokensPerSecond = 1000 / swiftBF16.decodeMsPerToken
                print(row("decode batch 1, bf16 weights (tok/s)", tokensPerSecond, 1000 / python1.decode_ms_per_token,
                          target: "≥ 2× fp32"))
                print(String(format: "  bf16 weights %.1f MB → %.1f GB/s = %.0f%% of measured bandwidth; prefill %.2f ms",
                             Double(bf16Bytes) / 1e6, Double(bf16Bytes) / (swiftBF16.decodeMsPerToken / 1000) / 1e9,
                             100 * Double(bf16Bytes) / (swiftBF16.decodeMsPerToken / 1000) / bandwidth, swiftBF16.prefillMs))
                let (difference, scale, sameTop) = try compareLogits(smol.fp32, smol.bf16)
                print(String(format: "  bf16 vs fp32 last logits: max |Δ| %.4f (logit scale %.1f, %.2f%%), same top token: %@",
                             difference, scale, 100 * difference / scale, sameTop ? "yes" : "NO"))
                let weightsMB = Double(weightBytes(smol.fp32)) / 1e6
                // The tied lm_head reads the embedding's one (transposed) copy, and the file's pages
                // are given back as each tensor is dequantized: the growth is the fp32 weights.
                print(String(format: "  load (fp32): %.2f s; file %.1f MB, fp32 weights %.1f MB (tied embedding held once); "
                             + "peak RSS %.0f → %.0f MiB (+%.0f MiB = %.2f× the fp32 weights)",
                             smol.loadSeconds, Double(smol.fileBytes) / 1e6, weightsMB, smol.rssBefore,
                             smol.rssAfter, smol.rssAfter - smol.rssBefore,
                             (smol.rssAfter - smol.rssBefore) * 1_048_576 / (weightsMB * 1e6)))
                print(String(format: "  transformers load: peak RSS %.0f → %.0f MiB (+%.0f MiB)", python1.rss_before_load_mib,
                             python1.rss_after_load_mib, python1.rss_after_load_mib - python1.rss_before_load_mib))
            case let family where FamilyShapes.all.contains(family):
                guard let folder = familyFolders[family] else { throw ValidationError("no checkpoint made for \(family)") }
                familySummary.append(try measureFamily(family, folder: folder))
            default:
                throw ValidationError("unknown shape \(name)")
            }
        }
        if !familySummary.isEmpty {
            print("")
            print("Family shapes: Swift ÷ transformers (prefill: lower is better; decode tok/s: higher is better), "
                + "RSS growth at load ÷ weight bytes (target ≤ 1.1×)")
            print("shape      prefill-all  prefill-last  decode-tok/s  load-RSS")
            familySummary.forEach { print($0) }
        }
    }

    /// Loads each family's tiny test checkpoint (`Tests/Fixtures/models/tiny-<shape>`, KBs) once
    /// and drops it, packs one linear weight large enough for oneDNN (the tiny ones are not), and
    /// prints the RSS this took: the process's one-time costs of a first load (libtorch's and
    /// oneDNN's code paged in by the meta-device check and the first packing, about 17 MiB here)
    /// do not grow with the weights, and would otherwise be counted against whichever family
    /// shape happens to load first.
    func warmUpLoading(_ families: [String]) throws {
        let before = LoadMemory.statusMiB("VmRSS")
        for fixtureName in families.map({ "tiny-" + $0 }) + ["tiny-llama"] {
            let fixture = Reference.root.appendingPathComponent("Tests/Fixtures/models/\(fixtureName)").path
            guard FileManager.default.fileExists(atPath: fixture) else { continue }
            _ = try NNsightModels.load(path: fixture)
        }
        let linear = try Linear(256, 256)
        try linear.packLinearWeights()
        _ = try linear(Tensor.randn([1, 256]))
        if let before, let after = LoadMemory.statusMiB("VmRSS") {
            print(String(format: "load warm-up (the families' tiny test checkpoints, loaded once and dropped): RSS %.0f → %.0f MiB "
                         + "(+%.1f MiB, one-time, not counted in the load-RSS checks)", before, after, after - before))
        }
    }

    /// The default model's GGUF (SmolLM2-135M-Instruct, Q4_1) loaded and dequantized to float32,
    /// with the RSS it took: the file's pages under each tensor are given back once it is
    /// dequantized, so the growth is the float32 weights (tied embedding held once) plus one
    /// tensor's blocks of the file.
    func measureGGUFLoad(_ path: String) throws {
        let file = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        let (_, memory) = try LoadMemory.measuring(path: path)
        print("")
        print(String(format: "smollm2 GGUF (%@, %.1f MiB file) load, dequantized to fp32: RSS %.0f MiB → peak %.0f MiB "
                     + "(+%.1f MiB) = %.3f× the %.1f MiB of fp32 weights, %.0f MiB after%@",
                     (path as NSString).lastPathComponent, Double(file) / 1_048_576, memory.before, memory.peak,
                     memory.peak - memory.before, memory.ratio, Double(memory.weightBytes) / 1_048_576, memory.after,
                     memory.peakIsOwn ? "" : " (no peak RSS of the load's own: /proc/self/clear_refs or status unreadable)"))
    }

    /// One family shape: load (RSS measured), Swift before and after transformers, the rows, and
    /// the summary line.
    func measureFamily(_ family: String, folder: String) throws -> String {
        let (model, memory) = try LoadMemory.measuring(path: folder)
        let passed = memory.peakIsOwn && memory.ratio <= 1.1
        let loadLine = String(format: "  load (memory-mapped safetensors): RSS %.0f MiB → peak %.0f MiB (+%.1f MiB) = %.3f× the %.1f MiB "
                              + "of weights, %.0f MiB after: %@ (target ≤ 1.1×)%@",
                              memory.before, memory.peak, memory.peak - memory.before, memory.ratio,
                              Double(memory.weightBytes) / 1_048_576, memory.after, passed ? "PASS" : "FAIL",
                              memory.peakIsOwn ? "" : " (no peak RSS of the load's own: /proc/self/clear_refs or status unreadable)")
        if loadOnly {
            print("")
            print("\(family) (random weights, \(model.typeName)):")
            print(loadLine)
            return family.padding(toLength: 10, withPad: " ", startingAt: 0)
                + String(repeating: " ", count: 11) + "-" + String(repeating: " ", count: 13) + "-"
                + String(repeating: " ", count: 13) + "-" + String(format: " %8.3f× %@", memory.ratio, passed ? "PASS" : "FAIL")
        }
        var swift = try measure(model, generateToo: false)
        let python1 = try python(["--model", folder, "--batch", "1", "--skip-generate"])
        swift = try swift.best(measure(model, generateToo: false))
        let parameters = model.namedParameters().reduce(0) { $0 + $1.parameter.count }
        print("")
        print(String(format: "%@ (random weights, %@): %.1fM parameters (transformers %.1fM), fp32 weights %.1f MB; "
                     + "transformers %@, attention %@",
                     family, model.typeName, Double(parameters) / 1e6, Double(python1.parameters) / 1e6,
                     Double(memory.weightBytes) / 1e6, python1.transformers, python1.attn_implementation ?? "?"))
        print("".padding(toLength: 40, withPad: " ", startingAt: 0) + "     Swift  transformers     ratio   target")
        print(row("prefill \(tokens) tokens, all logits (ms)", swift.prefillMs, python1.prefill_ms, target: "≤ 0.7×"))
        print(row("prefill \(tokens) tokens, last logits (ms)", swift.prefillLastMs, python1.prefill_last_ms, target: "≤ 0.7×"))
        print(row("decode batch 1, fp32 (ms/token)", swift.decodeMsPerToken, python1.decode_ms_per_token, target: ""))
        print(row("decode batch 1, fp32 (tok/s)", 1000 / swift.decodeMsPerToken, 1000 / python1.decode_ms_per_token,
                  target: "≥ 1.2×"))
        print(loadLine)
        return family.padding(toLength: 10, withPad: " ", startingAt: 0)
            + String(format: " %10.2f× %12.2f× %12.2f× %8.3f× %@", swift.prefillMs / python1.prefill_ms,
                     swift.prefillLastMs / python1.prefill_last_ms,
                     python1.decode_ms_per_token / swift.decodeMsPerToken, memory.ratio, passed ? "PASS" : "FAIL")
    }

    // MARK: Measurements

    func python(_ arguments: [String]) throws -> PythonResult {
        try Reference.run("models_bench.py", arguments: arguments + [
            "--threads", String(threads), "--tokens", String(tokens), "--new-tokens", String(newTokens),
            "--repeats", String(repeats),
        ], as: PythonResult.self)
    }

    func measure(_ model: any CausalLanguageModel, generateToo: Bool = true) throws -> Figures {
        var figures = Figures()
        let generator = Generator(seed: 0)
        let ids1 = try Tensor.randint(0, model.vocabularySize, [1, tokens], generator: generator)
        let ids8 = try Tensor.randint(0, model.vocabularySize, [batch, tokens], generator: generator)
        try Torch.noGrad {
            for keepLast in [false, true] {
                let milliseconds = try bestTime {
                    let context = ForwardContext(attentionMask: try ids1.onesLike(), cache: KVCache(layers: model.layerCount),
                                                 logitsToKeep: keepLast ? 1 : nil)
                    _ = try model(ids1, context)
                    return nil
                } * 1000
                if keepLast { figures.prefillLastMs = milliseconds } else { figures.prefillMs = milliseconds }
            }
            figures.decodeMsPerToken = try bestTime { try decode(model, ids1) } * 1000 / Double(newTokens)
            if generateToo {
                let seconds = try bestTime {
                    let output = try generate(model, inputIds: ids8, attentionMask: ids8.onesLike(),
                                              options: GenerationOptions(maxNewTokens: newTokens))
                    precondition(output.shape == [batch, tokens + newTokens])
                    return nil
                }
                figures.generateTokensPerSecond = Double(batch * newTokens) / seconds
            }
        }
        return figures
    }

    /// Greedy decoding with the KV cache, one `[batch, 1]` step per token; the prefill is not
    /// timed (models_bench.py's `decode`).
    func decode(_ model: any CausalLanguageModel, _ ids: Tensor) throws -> Double {
        let cache = KVCache(layers: model.layerCount)
        var mask = try ids.onesLike()
        let context = ForwardContext(attentionMask: mask, cache: cache)
        var logits = try model(ids, context)
        var next = try logits.select(dim: 1, index: -1).argmax(dim: -1, keepDim: true)
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<newTokens {
            mask = try Tensor.cat([mask, next.onesLike()], dim: -1)
            let step = ForwardContext(attentionMask: mask, cache: cache)
            logits = try model(next, step)
            next = try logits.select(dim: 1, index: -1).argmax(dim: -1, keepDim: true)
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Best wall time of `body` in seconds after one warm-up; `body` may return its own time.
    func bestTime(_ body: () throws -> Double?) throws -> Double {
        _ = try body()
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            let own = try body()
            best = min(best, own ?? Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return best
    }

    /// Bytes per second of summing a 512 MiB float32 tensor (a streaming read), best of 5.
    func measureBandwidth() throws -> Double {
        let x = try Tensor.ones([128 * 1_048_576])
        let seconds = try bestTime { _ = try x.sum().item(Float.self); return nil }
        return Double(x.count * 4) / seconds
    }

    func compareLogits(_ fp32: any CausalLanguageModel, _ bf16: any CausalLanguageModel) throws -> (Double, Double, Bool) {
        let ids = try Tensor.randint(0, fp32.vocabularySize, [1, tokens], generator: Generator(seed: 1))
        let (a, b) = try Torch.noGrad {
            (try fp32(ids, ForwardContext()).select(dim: 1, index: -1), try bf16(ids, ForwardContext()).select(dim: 1, index: -1).to(.float32))
        }
        let difference = try (a - b).abs().max().item(Float.self)
        let scale = try a.abs().max().item(Float.self)
        let same = try a.argmax().item(Int.self) == b.argmax().item(Int.self)
        return (Double(difference), Double(scale), same)
    }

    // MARK: Report

    func weightBytes(_ model: any CausalLanguageModel) -> Int {
        model.namedParameters().reduce(0) { $0 + $1.parameter.count * $1.parameter.dtype.byteCount }
    }

    func row(_ label: String, _ swift: Double, _ python: Double, target: String, lowerIsBetter: Bool = false) -> String {
        label.padding(toLength: 40, withPad: " ", startingAt: 0)
            + String(format: "%10.2f %13.2f %9.2f×   ", swift, python, swift / python) + target
    }

    func report(title: String, model: any CausalLanguageModel, swift: Figures, python1: PythonResult,
                python8: PythonResult, bandwidth: Double) {
        let parameters = model.namedParameters().reduce(0) { $0 + $1.parameter.count }
        let bytes = weightBytes(model)
        print(String(format: "%@: %.1fM parameters (transformers %.1fM), fp32 weights %.1f MB; transformers %@, attention %@",
                     title, Double(parameters) / 1e6, Double(python1.parameters) / 1e6, Double(bytes) / 1e6,
                     python1.transformers, python1.attn_implementation ?? "?"))
        print("".padding(toLength: 40, withPad: " ", startingAt: 0) + "     Swift  transformers     ratio   target")
        print(row("prefill \(tokens) tokens, all logits (ms)", swift.prefillMs, python1.prefill_ms, target: "≤ 0.7×"))
        print(row("prefill \(tokens) tokens, last logits (ms)", swift.prefillLastMs, python1.prefill_last_ms, target: "≤ 0.7×"))
        print(row("decode batch 1, fp32 (ms/token)", swift.decodeMsPerToken, python1.decode_ms_per_token, target: ""))
        print(row("decode batch 1, fp32 (tok/s)", 1000 / swift.decodeMsPerToken, 1000 / python1.decode_ms_per_token,
                  target: "≥ 1.2×"))
        let used = Double(bytes) / (swift.decodeMsPerToken / 1000)
        let usedPython = Double(bytes) / (python1.decode_ms_per_token / 1000)
        print(String(format: "  weights / decode time: Swift %.1f GB/s = %.0f%%, transformers %.1f GB/s = %.0f%% of measured bandwidth",
                     used / 1e9, 100 * used / bandwidth, usedPython / 1e9, 100 * usedPython / bandwidth))
        print(row("generate batch \(batch), fp32 (tok/s)", swift.generateTokensPerSecond, python8.generate_tokens_per_s ?? .nan,
                  target: "≥ 1.5×"))
    }
}

/// Peak resident set size of this process so far (Linux `ru_maxrss` is in KiB).
func peakRSSMiB() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    return Double(usage.ru_maxrss) / 1024
}
