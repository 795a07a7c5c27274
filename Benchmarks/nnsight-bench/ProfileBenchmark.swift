import ArgumentParser
import Foundation
import Models
import NN
import Torch

/// `nnsight-bench profile`: where one forward pass of a model spends its time, by module type
/// (self time: a module's wall time minus its children's), measured with forward hooks. Swift
/// only; the figures guide optimisation and are not compared with a reference.
struct ProfileBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Self time per module type of one SmolLM2 forward pass (prefill or a decode step).")

    @Option(help: "Prompt length (rows × tokens of the prefill).")
    var tokens = 16

    @Option(help: "Batch rows.")
    var batch = 1

    @Option(help: "Cached tokens before the profiled step (0: profile the prefill).")
    var past = 0

    @Option(help: "Weights dtype: float32 or bfloat16.")
    var dtype = "float32"

    @Option(help: "Timed repeats (totals are summed).")
    var repeats = 20

    @Flag(help: "Hold plain linear weights (unpacked) instead of the packed layout.")
    var plain = false

    func run() throws {
        try Torch.setNumThreads(1)
        let path = Reference.root.appendingPathComponent(".models/SmolLM2-135M-Instruct.Q4_1.gguf").path
        let model = try Models.load(path: path, dtype: dtype == "bfloat16" ? .bfloat16 : .float32).model
        if plain {
            for (_, parameter) in model.namedParameters() where parameter.isPacked { parameter.value = parameter.value }
        }
        let modules = model.namedModules()
        var selfTime = [String: (nanoseconds: UInt64, calls: Int)]()
        var stack: [(start: UInt64, children: UInt64)] = []
        var handles: [HookHandle] = []
        var recording = false
        for (_, module) in modules {
            handles.append(module.registerForwardPreHook { _, _, _ in
                stack.append((DispatchTime.now().uptimeNanoseconds, 0))
                return .proceed
            })
            handles.append(module.registerForwardHook { module, _, _ in
                let frame = stack.removeLast()
                let total = DispatchTime.now().uptimeNanoseconds - frame.start
                if !stack.isEmpty { stack[stack.count - 1].children += total }
                if recording {
                    let key = (module as? Linear).map { "Linear \($0.weight.shape)" } ?? module.typeName
                    let entry = selfTime[key] ?? (0, 0)
                    selfTime[key] = (entry.nanoseconds + total - frame.children, entry.calls + 1)
                }
                return nil
            })
        }
        defer { handles.forEach { $0.remove() } }

        let generator = Generator(seed: 0)
        let pastIds = try Tensor.randint(0, model.vocabularySize, [batch, max(past, 1)], generator: generator)
        let ids = try Tensor.randint(0, model.vocabularySize, [batch, past > 0 ? 1 : tokens], generator: generator)
        var wall: UInt64 = 0
        try Torch.noGrad {
            for round in 0...repeats {
                let cache = KVCache(layers: model.layerCount)
                if past > 0 {
                    let context = ForwardContext()
                    context[.cache] = cache
                    _ = try model(pastIds, context)
                }
                let context = ForwardContext()
                context[.cache] = cache
                context[.logitsToKeep] = 1
                recording = round > 0
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try model(ids, context)
                if recording { wall += DispatchTime.now().uptimeNanoseconds - start }
                recording = false
            }
        }
        let total = selfTime.values.reduce(0) { $0 + $1.nanoseconds }
        print(String(format: "%@ %@, batch %d, %d new tokens after %d cached: %.2f ms per forward (with hooks)",
                     "SmolLM2", dtype, batch, try ids.size(1), past, Double(wall) / Double(repeats) / 1e6))
        for (name, entry) in selfTime.sorted(by: { $0.value.nanoseconds > $1.value.nanoseconds }) {
            print(String(format: "  %-28@ %8.3f ms  %5.1f%%  %5d calls  %7.1f µs/call", name as NSString,
                         Double(entry.nanoseconds) / Double(repeats) / 1e6, 100 * Double(entry.nanoseconds) / Double(total),
                         entry.calls / repeats, Double(entry.nanoseconds) / Double(entry.calls) / 1e3))
        }
    }
}
