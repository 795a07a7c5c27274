import ArgumentParser
import Foundation
import NNsightModels
import NNsightNN
import NNsightTorch

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
        let model = try NNsightModels.load(path: Reference.smolLM2Path, dtype: dtype == "bfloat16" ? .bfloat16 : .float32).model
        if plain {
            for (_, parameter) in model.namedParameters() where parameter.isPacked { parameter.value = parameter.value }
        }
        let generator = Generator(seed: 0)
        let pastIds = try Tensor.randint(0, model.vocabularySize, [batch, max(past, 1)], generator: generator)
        let ids = try Tensor.randint(0, model.vocabularySize, [batch, past > 0 ? 1 : tokens], generator: generator)
        /// Nanoseconds of the profiled forward, summed over the repeats (after one warm-up).
        func timeForwards() throws -> UInt64 {
            var wall: UInt64 = 0
            try Torch.noGrad {
                for round in 0...repeats {
                    let cache = KVCache(layers: model.layerCount)
                    if past > 0 {
                        _ = try model(pastIds, ForwardContext(cache: cache))
                    }
                    let context = ForwardContext(cache: cache, logitsToKeep: 1)
                    recording = round > 0
                    let start = DispatchTime.now().uptimeNanoseconds
                    _ = try model(ids, context)
                    if recording { wall += DispatchTime.now().uptimeNanoseconds - start }
                    recording = false
                }
            }
            return wall
        }
        var recording = false
        let plainWall = try timeForwards()

        // Self time per module: the hooks only take timestamps and add into per-module slots.
        let modules = model.namedModules().map(\.module)
        var nanoseconds = [UInt64](repeating: 0, count: modules.count)
        var calls = [Int](repeating: 0, count: modules.count)
        var stack: [(start: UInt64, children: UInt64)] = []
        var handles: [HookHandle] = []
        for (slot, module) in modules.enumerated() {
            handles.append(module.registerForwardPreHook { _, _, _ in
                stack.append((DispatchTime.now().uptimeNanoseconds, 0))
                return .proceed
            })
            handles.append(module.registerForwardHook { _, _, _ in
                let end = DispatchTime.now().uptimeNanoseconds
                let frame = stack.removeLast()
                let total = end - frame.start
                if !stack.isEmpty { stack[stack.count - 1].children += total }
                if recording {
                    nanoseconds[slot] += total - frame.children
                    calls[slot] += 1
                }
                return nil
            })
        }
        defer { handles.forEach { $0.remove() } }
        let hookedWall = try timeForwards()

        var byType = [String: (nanoseconds: UInt64, calls: Int)]()
        for (slot, module) in modules.enumerated() {
            let key = (module as? Linear).map { "Linear \($0.weight.shape)" } ?? module.typeName
            byType[key, default: (0, 0)].nanoseconds += nanoseconds[slot]
            byType[key, default: (0, 0)].calls += calls[slot]
        }
        let total = byType.values.reduce(0) { $0 + $1.nanoseconds }
        print(String(format: "SmolLM2 %@, batch %d, %d new tokens after %d cached: %.2f ms per forward (%.2f ms with the "
                     + "profiling hooks)", dtype, batch, try ids.size(1), past, Double(plainWall) / Double(repeats) / 1e6,
                     Double(hookedWall) / Double(repeats) / 1e6))
        for (name, entry) in byType.sorted(by: { $0.value.nanoseconds > $1.value.nanoseconds }) where entry.calls > 0 {
            print(String(format: "  %-28@ %8.3f ms  %5.1f%%  %5d calls  %7.1f µs/call", name as NSString,
                         Double(entry.nanoseconds) / Double(repeats) / 1e6, 100 * Double(entry.nanoseconds) / Double(total),
                         entry.calls / repeats, Double(entry.nanoseconds) / Double(entry.calls) / 1e3))
        }
    }
}
