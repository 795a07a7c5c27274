// The checks of nnsight-gpu-check (main.swift): every check of issue 15's "Prove it on a GPU" list in one run, each device
// result compared against the CPU result computed in the same run, then the GPU benchmarks
// printed as ratios against transformers' figures (measured by scripts/gpu/bench_transformers.py
// in the same session). scripts/gpu/README.md says how to run it; `--device cpu` runs the same
// program here (CPU against CPU) to check the program itself.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NNsight
import NNsightModels
import NNsightNN
import NNsightTorch

struct Options {
    var device: Device = .cuda(0)
    var fixtures = "Tests/Fixtures/models"
    var reference: String?
    var benchmarks = true

    init(_ arguments: [String]) throws {
        var rest = arguments.dropFirst()
        while let flag = rest.popFirst() {
            switch flag {
            case "--device":
                let name = rest.popFirst() ?? ""
                if name == "cpu" { device = .cpu } else if name == "mps" { device = .mps }
                else if name.hasPrefix("cuda:"), let index = Int(name.dropFirst(5)) { device = .cuda(index) }
                else { throw CheckFailure("unknown device \(name) (cpu, cuda:N, mps)") }
            case "--fixtures": fixtures = rest.popFirst() ?? fixtures
            case "--reference": reference = rest.popFirst()
            case "--no-benchmarks": benchmarks = false
            default: throw CheckFailure("unknown option \(flag); options: --device cuda:0 --fixtures DIR --reference transformers.json --no-benchmarks")
            }
        }
    }
}

struct CheckFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs the checks, printing one line each; counts failures instead of stopping at the first.
final class Checks {
    var failures: [String] = []

    func run(_ name: String, _ body: () throws -> String) {
        do {
            let detail = try body()
            print("PASS  \(name)  \(detail)")
        } catch {
            failures.append(name)
            print("FAIL  \(name)  \(error)")
        }
    }
}

func maxDifference(_ a: Tensor, _ b: Tensor) throws -> Double {
    guard a.shape == b.shape else { throw CheckFailure("shapes differ: \(a.shape) vs \(b.shape)") }
    return try (a.to(device: .cpu).to(.float64) - b.to(device: .cpu).to(.float64)).abs().max().item(Double.self)
}

func expectClose(_ device: Tensor, _ cpu: Tensor, within tolerance: Double, _ what: String) throws -> String {
    let difference = try maxDifference(device, cpu)
    guard difference <= tolerance else { throw CheckFailure("\(what): max |device - cpu| = \(difference) > \(tolerance)") }
    return "\(what): max |device - cpu| = \(String(format: "%.2e", difference))"
}

func expectEqualIds(_ device: Tensor, _ cpu: Tensor, _ what: String) throws -> String {
    let a = try device.toArray(Int.self), b = try cpu.toArray(Int.self)
    guard a == b, device.shape == cpu.shape else { throw CheckFailure("\(what) differ: device \(a) vs cpu \(b)") }
    return "\(what) identical (\(a.count) ids)"
}

/// libtorch's CUDA kernels live in libtorch_cuda.so, which nothing in this binary names: load it
/// before the first tensor so that CUDA devices exist (the wheel's libtorch.so may be dropped by
/// the linker's --as-needed).
func loadCUDAKernels() {
    #if canImport(Glibc)
    for name in ["libtorch_cuda.so", "libc10_cuda.so"] { _ = dlopen(name, RTLD_NOW | RTLD_GLOBAL) }
    #endif
}

/// Every check, in order; returns the exit status. Not on the main actor: the engine runs
/// intervention bodies on its own threads.
func runChecks(_ options: Options) -> Int32 {
    if case .cuda = options.device { loadCUDAKernels() }
    do { try Torch.checkRuntime() } catch { print("FAIL  libtorch runtime: \(error)"); return 1 }
    print("libtorch \(Torch.runtimeVersion) (compiled against \(Torch.compiledVersion)); CUDA available: \(Torch.cudaIsAvailable); device under test: \(options.device)")
    let device = options.device
    let checks = Checks()
    checks.run("device \(device) reachable") {
        try Checkpoint.checkAvailable(device)
        return "a tensor was created there"
    }

    let prompts = ["The capital of France is", "Hello, my name is", "1 2 3"]
    let models = ((try? FileManager.default.contentsOfDirectory(atPath: options.fixtures)) ?? []).sorted()
        .filter { FileManager.default.fileExists(atPath: "\(options.fixtures)/\($0)/config.json") }
    if models.isEmpty { checks.failures.append("fixtures"); print("FAIL  no fixture models under \(options.fixtures)") }

    for name in models {
        let path = "\(options.fixtures)/\(name)"
        checks.run("\(name): fp32 logits on \(device) vs cpu (batch of \(prompts.count), padded)") {
            let cpu = try LanguageModel(path: path, dispatch: true)
            let onDevice = try LanguageModel(path: path, device: device, dispatch: true)
            let strays = onDevice.network.namedParameters().filter { $0.parameter.value.device != device }.map(\.name)
            guard strays.isEmpty else { throw CheckFailure("parameters not on \(device): \(strays)") }
            let expected = try cpu.trace(prompts) { m in try m.lm_head.output }
            let logits = try onDevice.trace(prompts) { m in try m.lm_head.output }
            guard logits.device == device else { throw CheckFailure("logits on \(logits.device)") }
            return try expectClose(logits, expected, within: 1e-4, "logits")
        }
        checks.run("\(name): greedy generation on \(device) vs cpu") {
            let cpu = try LanguageModel(path: path, dispatch: true)
            let onDevice = try LanguageModel(path: path, device: device, dispatch: true)
            func generated(_ model: LanguageModel) throws -> Tensor {
                try model.generate(prompts, maxNewTokens: 12, stopAtEOS: false) { _, t in try t.result() }
            }
            let expected = try generated(cpu), ids = try generated(onDevice)
            return try expectEqualIds(ids, expected, "generated ids")
        }
        for dtype in [DType.bfloat16, .float16] {
            checks.run("\(name): \(dtype) forward on \(device) runs, next tokens vs cpu fp32") {
                let cpu = try LanguageModel(path: path, dispatch: true)
                let onDevice = try LanguageModel(path: path, device: device, dtype: dtype, dispatch: true)
                let expected = try cpu.trace(prompts) { m in try m.lm_head.output }
                let logits = try onDevice.trace(prompts) { m in try m.lm_head.output }
                guard logits.dtype == dtype, logits.device == device else { throw CheckFailure("logits \(logits.dtype) on \(logits.device)") }
                let agree = try (logits.argmax(dim: -1).to(device: .cpu) .== expected.argmax(dim: -1)).to(.float32).mean().item(Double.self)
                return "argmax agreement with fp32 cpu \(String(format: "%.3f", agree)), max |diff| \(String(format: "%.3g", try maxDifference(logits, expected)))"
            }
        }
    }

    // The nnsight scenarios, on the tiny GPT-2 fixture: each run on the CPU and on the device.
    let gpt2 = "\(options.fixtures)/tiny-gpt2"
    func bothDevices<T>(_ body: (LanguageModel) throws -> T) throws -> (device: T, cpu: T) {
        (try body(try LanguageModel(path: gpt2, device: device, dispatch: true)), try body(try LanguageModel(path: gpt2, dispatch: true)))
    }
    checks.run("scenario save (every block's output)") {
        let (d, c) = try bothDevices { model in try model.trace(prompts[0]) { m in try (0..<2).map { try m.transformer.h[$0].output } } }
        return try zip(d, c).map { try expectClose($0, $1, within: 1e-4, "block output") }.joined(separator: "; ")
    }
    checks.run("scenario patch (block 0's output of a second prompt taken from the first, by a barrier)") {
        let (d, c) = try bothDevices { model in
            var patched: Tensor!
            try model.trace { t in
                let barrier = t.barrier(2)
                var clean: Tensor!
                try t.invoke(prompts[0]) { m in
                    clean = try m.transformer.h[0].output
                    try barrier()
                }
                try t.invoke(prompts[0]) { m in
                    try barrier()
                    try m.transformer.h[0].setOutput(clean * 2)
                    try m.transformer.h[1].output[.all] = 0
                    patched = try m.lm_head.output
                }
            }
            return patched!
        }
        return try expectClose(d, c, within: 1e-4, "patched logits")
    }
    checks.run("scenario generate with iter (lm_head at every step)") {
        let (d, c) = try bothDevices { model in
            try model.generate(prompts[0], maxNewTokens: 5) { m, t in try t.all().map { _ in try m.lm_head.output[0, -1] } }
        }
        return try zip(d, c).map { try expectClose($0, $1, within: 1e-4, "step logits") }.joined(separator: "; ")
    }
    checks.run("scenario gradients (block 0's output gradient of the summed logits)") {
        let (d, c) = try bothDevices { model in
            try model.trace(prompts[0]) { m in
                let hidden = try m.transformer.h[0].output.requiresGrad_()
                let logits = try m.lm_head.output
                var gradient: Tensor!
                try logits.sum().backward { g in gradient = try g.grad(of: hidden).clone() }
                return gradient!
            }
        }
        return try expectClose(d, c, within: 1e-4, "gradient")
    }
    checks.run("scenario cache (every module's output)") {
        let (d, c) = try bothDevices { model in try model.trace(prompts[0]) { _, t in try t.cache() } }
        guard Set(d.paths) == Set(c.paths) else { throw CheckFailure("cached modules differ") }
        let worst = try c.paths.map { try maxDifference(d[$0].output, c[$0].output) }.max() ?? 0
        guard worst <= 1e-4 else { throw CheckFailure("worst cached output differs by \(worst)") }
        return "\(c.paths.count) modules, worst max |device - cpu| = \(String(format: "%.2e", worst))"
    }
    checks.run("device_map: tiny-llama split cpu | \(device), logits vs cpu") {
        let path = "\(options.fixtures)/tiny-llama"
        let map = DeviceMap(entries: [
            .init(module: "", device: .cpu, bytes: 0), .init(module: "model.layers.0", device: .cpu, bytes: 0),
            .init(module: "model.layers.1", device: device, bytes: 0), .init(module: "model.norm", device: device, bytes: 0),
            .init(module: "lm_head", device: device, bytes: 0),
        ])
        let split = try LanguageModel(path: path, deviceMap: map, dispatch: true)
        let cpu = try LanguageModel(path: path, dispatch: true)
        let (first, logits) = try split.trace(prompts) { m in (try m.model.layers[0].output, try m.lm_head.output) }
        guard first.device == .cpu, logits.device == device else { throw CheckFailure("values on \(first.device), \(logits.device)") }
        let expected = try cpu.trace(prompts) { m in try m.lm_head.output }
        let ids = try split.generate(prompts[0], maxNewTokens: 8) { _, t in try t.result() }
        let cpuIds = try cpu.generate(prompts[0], maxNewTokens: 8) { _, t in try t.result() }
        return try expectClose(logits, expected, within: 1e-4, "logits") + "; " + expectEqualIds(ids, cpuIds, "generated ids")
    }

    if options.benchmarks {
        checks.run("benchmarks") {
            try GPUBenchmarks(device: device, referencePath: options.reference).run()
            return "done"
        }
    }
    print(checks.failures.isEmpty ? "ALL CHECKS PASSED" : "FAILED: \(checks.failures.joined(separator: ", "))")
    return checks.failures.isEmpty ? 0 : 1
}
