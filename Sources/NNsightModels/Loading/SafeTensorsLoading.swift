import Foundation
import NNsightNN
import NNsightSafeTensors
import NNsightTokenizers
import NNsightTorch

/// Every tensor of the folder's `model.safetensors` (or its shards) as tensors that view the
/// mapped file, converted to `dtype` where they are floating point of another dtype, and moved
/// to `device(checkpointKey)` one tensor at a time (off the CPU, the host never holds more than one converted
/// tensor beyond the mapped file). A tensor that was copied (converted or moved) gives its mapped
/// pages back at once (``MappedPages``); `pages` is for the copies made later in the load.
func readSafeTensors(folder: URL, dtype: DType,
                     device: (String) -> Device = { _ in .cpu }) throws -> (weights: [String: Tensor], pages: MappedPages) {
    let index = folder.appendingPathComponent(ShardedSafeTensors.indexFileName)
    let single = folder.appendingPathComponent(ShardedSafeTensors.singleFileName)
    guard FileManager.default.fileExists(atPath: index.path) || FileManager.default.fileExists(atPath: single.path) else {
        throw ModelError.missingFile(single.path)
    }
    let checkpoint = try ShardedSafeTensors(directory: folder)
    let tensors = try Dictionary(uniqueKeysWithValues: checkpoint.tensorNames.map { ($0, try checkpoint.tensor($0)) })
    let pages = MappedPages(tensors.values.map(\.storage))
    var result: [String: Tensor] = [:]
    for (name, stored) in tensors {
        guard let storedType = torchDType(stored.dtype) else {
            throw ModelError.malformedCheckpoint(file: name, reason: "dtype \(stored.dtype) has no tensor equivalent")
        }
        let tensor = try Tensor(borrowing: stored.bytes, shape: stored.shape, dtype: storedType, owner: stored.storage)
        let converted = storedType.isFloatingPoint && storedType != dtype ? try tensor.to(dtype) : tensor
        // One tensor at a time: a converted host copy is freed before the next is made.
        let target = device(name)
        let placed = target == .cpu ? converted : try converted.to(device: target)
        if placed !== tensor { pages.release(tensor) }
        result[name] = placed
    }
    return (result, pages)
}

private func torchDType(_ dtype: SafeTensorsDType) -> DType? {
    switch dtype.rawValue {
    case "F32": .float32
    case "F16": .float16
    case "BF16": .bfloat16
    case "F64": .float64
    case "I64": .int64
    case "I32": .int32
    case "I16": .int16
    case "I8": .int8
    case "U8": .uint8
    case "BOOL": .bool
    default: nil
    }
}

/// Checkpoint keys as the model names them, by the family's `modelKey(forCheckpointKey:config:)`
/// (tensors the model recomputes, and a tied head's weight, are left out).
///
/// The family's `combineCheckpointTensors` sees one layer's tensors at a time (keys
/// `….layers.<i>.…`), then the rest, with `pages.release` to give back each part's mapped pages
/// as soon as it is copied (Mixtral's per-expert weights, stacked expert by expert into tensors
/// made for them); the pages of every tensor a combination consumed are given back again before
/// the next layer, so that the load never holds the experts twice.
func modelWeights(_ weights: [String: Tensor], configuration: ModelConfiguration,
                  pages: MappedPages? = nil) throws -> [String: Tensor] {
    var groups: [Int: [String: Tensor]] = [:], rest: [String: Tensor] = [:]
    for (name, tensor) in weights {
        if let layer = layerIndex(of: name) { groups[layer, default: [:]][name] = tensor } else { rest[name] = tensor }
    }
    var result: [String: Tensor] = [:]
    for group in groups.keys.sorted().map({ groups[$0]! }) + [rest] {
        let combined = try configuration.family.combineCheckpointTensorsErased(group, config: configuration.config) {
            pages?.release($0)
        }
        for (name, tensor) in group where combined[name] == nil { pages?.release(tensor) }
        for (name, tensor) in combined {
            if let key = try configuration.family.modelKeyErased(forCheckpointKey: name, config: configuration.config) {
                result[key] = tensor
            }
        }
    }
    return result
}

/// The `<i>` of a key `….layers.<i>.…` (`model.layers.3.mlp…`, `gpt_neox.layers.0…`), if it is one.
private func layerIndex(of key: String) -> Int? {
    guard let range = key.range(of: "layers.") else { return nil }
    let digits = key[range.upperBound...].prefix { $0.isNumber }
    guard !digits.isEmpty, key[range.upperBound...].dropFirst(digits.count).first == "." else { return nil }
    return Int(digits)
}
