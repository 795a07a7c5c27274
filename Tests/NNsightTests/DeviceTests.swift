import Foundation
import Testing
import NNsightModels
import NNsightNN
import NNsightTorch
@testable import NNsight

/// Device bookkeeping of `LanguageModel(path:device:dtype:)` and `Checkpoint.loadWeights(into:dtype:device:)`
/// on the devices every machine has (CPU and meta); CUDA runs in scripts/gpu/.
struct DeviceTests {
    static let tinyLlamaPath = LMFixtures.fixtures.appendingPathComponent("models/tiny-llama").path
    let prompts = ["The capital of France is", "Hello"]

    /// Every parameter and buffer (the rotary table included, which the checkpoint does not hold).
    func devices(of module: Module) -> Set<Device> {
        Set(module.namedParameters().map { $0.parameter.value.device } + module.namedBuffers().map { $0.buffer.value.device })
    }

    @Test func metaModelKeepsWeightsInputsMasksAndOutputsOnMeta() throws {
        try Torch.setNumThreads(1)
        let model = try LanguageModel(path: Self.tinyLlamaPath, device: .meta, dispatch: true)
        #expect(model.device == .meta)
        #expect(devices(of: model.network) == [.meta])
        let (ids, mask, logits) = try model.trace(prompts) { m in
            let inputs = try m.inputs
            return (inputs.input, inputs.context.attentionMask, try m.lm_head.output)
        }
        #expect(ids.device == .meta)
        #expect(mask?.device == .meta)
        #expect(logits.device == .meta)
        let embedding = try #require(model.network.namedParameters().first { $0.name.hasSuffix("embed_tokens.weight") })
        #expect(logits.shape == [2, ids.shape[1], embedding.parameter.shape[0]])
    }

    @Test func kvCacheEntriesAreCreatedOnTheModelsDevice() throws {
        try Torch.setNumThreads(1)
        let checkpoint = try Checkpoint(path: Self.tinyLlamaPath)
        let network = try checkpoint.makeModel()
        try checkpoint.loadWeights(into: network, device: .meta)
        let cache = KVCache(layers: network.layerCount)
        let ids = try Tensor([1, 2, 3], shape: [1, 3]).to(device: .meta)
        _ = try network(ids, ForwardContext(cache: cache))
        _ = try network(try Tensor([4], shape: [1, 1]).to(device: .meta), ForwardContext(cache: cache))
        for layer in 0..<network.layerCount {
            let entries = try #require(cache.entries(layer: layer))
            #expect(entries.keys.device == .meta && entries.values.device == .meta)
            #expect(try entries.keys.size(-2) == 4)
        }
    }

    @Test func explicitCPUEqualsTheDefaultBitForBit() throws {
        try Torch.setNumThreads(1)
        let byDefault = try LanguageModel(path: Self.tinyLlamaPath)
        let onCPU = try LanguageModel(path: Self.tinyLlamaPath, device: .cpu)
        let defaultLogits = try byDefault.trace(prompts) { m in try m.lm_head.output }
        let cpuLogits = try onCPU.trace(prompts) { m in try m.lm_head.output }
        #expect(devices(of: onCPU.network) == [.cpu])
        #expect(cpuLogits.device == .cpu)
        #expect(try cpuLogits.equal(defaultLogits))
        let sampling = SamplingOptions(temperature: 0.8, topK: 20, seed: 7)
        let defaultIds = try byDefault.generate(prompts[0], maxNewTokens: 6, sampling: sampling) { _, t in try t.result() }
        let cpuIds = try onCPU.generate(prompts[0], maxNewTokens: 6, sampling: sampling) { _, t in try t.result() }
        #expect(try cpuIds.equal(defaultIds))
    }

    @Test func cpuWeightsArePackedAndMetaWeightsAreNot() throws {
        try Torch.setNumThreads(1)
        let checkpoint = try Checkpoint(path: LMFixtures.tinyGPT2Path)
        let cpu = try checkpoint.makeModel(), meta = try checkpoint.makeModel()
        try checkpoint.loadWeights(into: cpu, device: .cpu)
        try checkpoint.loadWeights(into: meta, device: .meta)
        #expect(meta.namedParameters().allSatisfy { !$0.parameter.isPacked })
        #expect(devices(of: meta) == [.meta])
        // Only weights of 65,536 elements or more are packed; the tiny model may have none, so
        // compare against what packing this CPU copy again decides.
        let packedBefore = cpu.namedParameters().filter { $0.parameter.isPacked }.map(\.name)
        try cpu.packLinearWeights()
        #expect(cpu.namedParameters().filter { $0.parameter.isPacked }.map(\.name) == packedBefore)
    }

    @Test(.enabled(if: !Torch.cudaIsAvailable, "this libtorch has CUDA; scripts/gpu/ checks the CUDA path"))
    func cudaWithoutCUDAIsATypedErrorNamingTheDevice() throws {
        try Torch.setNumThreads(1)
        let error = try #require(throws: TorchError.self) {
            _ = try LanguageModel(path: Self.tinyLlamaPath, device: .cuda(0))
        }
        #expect(error.message.contains("cuda:0"))
        let checkpoint = try Checkpoint(path: Self.tinyLlamaPath)
        let network = try checkpoint.makeModel()
        #expect(throws: TorchError.self) { try checkpoint.loadWeights(into: network, device: .cuda(1)) }
        #expect(devices(of: network).contains(.meta))
    }
}

/// A model split over devices (`device_map`) on the devices every machine has: the same code path
/// as several GPUs, with CPU and meta as the two devices.
struct DeviceMapApplicationTests {
    let prompts = ["The capital of France is", "Hello"]

    func map(_ devices: (rest: Device, layer0: Device, layer1: Device, tail: Device)) -> DeviceMap {
        DeviceMap(entries: [
            .init(module: "", device: devices.rest, bytes: 0),
            .init(module: "model.layers.0", device: devices.layer0, bytes: 0),
            .init(module: "model.layers.1", device: devices.layer1, bytes: 0),
            .init(module: "model.norm", device: devices.tail, bytes: 0),
            .init(module: "lm_head", device: devices.tail, bytes: 0),
        ])
    }

    @Test func aMapPuttingEverythingOnTheCPUGivesTheSameLogits() throws {
        try Torch.setNumThreads(1)
        let checkpoint = try Checkpoint(path: DeviceTests.tinyLlamaPath)
        let planned = try DeviceMap.auto(for: checkpoint.makeModel(), names: checkpoint.standardNames, dtype: .float32,
                                         budgets: [DeviceBudget(.cpu, bytes: 300_000), DeviceBudget(.cpu, bytes: 1 << 30)])
        // The first budget (300 kB) holds the 131 kB embeddings and one 148 kB layer; the second the rest.
        #expect(planned.plannedBytes(on: .cpu) > 300_000)
        #expect(planned.entries.map(\.module) == ["", "model.layers.0", "model.layers.1", "model.norm", "lm_head"])
        let split = try LanguageModel(path: DeviceTests.tinyLlamaPath, deviceMap: planned)
        let whole = try LanguageModel(path: DeviceTests.tinyLlamaPath)
        let splitLogits = try split.trace(prompts) { m in try m.lm_head.output }
        let wholeLogits = try whole.trace(prompts) { m in try m.lm_head.output }
        #expect(try maxAbsDifference(splitLogits, wholeLogits) < 1e-6)
        let layers = split.network.namedModules().filter { $0.name.hasPrefix("model.layers.") && !$0.name.dropFirst(13).contains(".") }
        #expect(layers.count == 2 && layers.allSatisfy { $0.module.placement == .cpu })
        let splitIds = try split.generate(prompts[0], maxNewTokens: 5) { _, t in try t.result() }
        let wholeIds = try whole.generate(prompts[0], maxNewTokens: 5) { _, t in try t.result() }
        #expect(try splitIds.equal(wholeIds))
    }

    @Test func envoysSeeEachValueOnItsOwnBlocksDevice() throws {
        try Torch.setNumThreads(1)
        let model = try LanguageModel(path: DeviceTests.tinyLlamaPath, deviceMap: map((.cpu, .cpu, .meta, .meta)))
        let (first, secondInput, secondOutput, logits) = try model.trace(prompts) { m in
            (try m.model.layers[0].output, try m.model.layers[1].input, try m.model.layers[1].output, try m.lm_head.output)
        }
        #expect(first.device == .cpu)
        #expect(secondInput.device == .meta && secondOutput.device == .meta && logits.device == .meta)
        #expect(logits.shape.prefix(2) == [2, first.shape[1]])
        #expect(model.network.namedParameters().filter { $0.name.hasPrefix("model.layers.1.") }
            .allSatisfy { $0.parameter.value.device == .meta })
        #expect(model.network.namedParameters().filter { $0.name.hasPrefix("model.layers.0.") }
            .allSatisfy { $0.parameter.value.device == .cpu })
    }

    @Test func aWriteFromAnotherDeviceIsMovedToTheBlocksDevice() throws {
        try Torch.setNumThreads(1)
        let model = try LanguageModel(path: DeviceTests.tinyLlamaPath, deviceMap: map((.cpu, .cpu, .meta, .meta)))
        let seen = try model.trace(prompts[0]) { m in
            let input = try m.model.layers[1].input
            try m.model.layers[1].setInput(try Tensor.zeros(input.shape))   // made on the CPU
            return try m.model.layers[1].self_attn.input
        }
        #expect(seen.device == .meta)
    }

    @Test func aMapNamingAModuleTheModelLacksIsATypedError() throws {
        try Torch.setNumThreads(1)
        var bad = map((.cpu, .cpu, .cpu, .cpu))
        bad.entries.append(.init(module: "model.layers.7", device: .cpu, bytes: 0))
        let model = try LanguageModel(path: DeviceTests.tinyLlamaPath, deviceMap: bad)
        #expect(throws: DeviceMapError.unknownModule("model.layers.7")) { try model.dispatch() }
    }
}

#if !os(macOS)
/// Apple GPUs exist only in macOS builds; elsewhere asking for one is a typed error, not a crash.
struct MPSOffMacOSTests {
    @Test func mpsIsATypedErrorNamingTheDevice() throws {
        try Torch.setNumThreads(1)
        let error = try #require(throws: TorchError.self) { _ = try Tensor.zeros([2], device: .mps) }
        #expect(error.kind == .value && error.message.contains("mps"))
        #expect(throws: TorchError.self) { _ = try LanguageModel(path: DeviceTests.tinyLlamaPath, device: .mps) }
        #expect(Device.mps.description == "mps")
    }
}
#endif
