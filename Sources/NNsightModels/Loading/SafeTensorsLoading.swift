import Foundation
import NNsightNN
import NNsightSafeTensors
import NNsightTokenizers
import NNsightTorch

/// Every tensor of the folder's `model.safetensors` (or its shards) as tensors that view the
/// mapped file, converted to `dtype` where they are floating point of another dtype, and moved
/// to `device(checkpointKey)` one tensor at a time (off the CPU, the host never holds more than one converted
/// tensor beyond the mapped file).
func readSafeTensors(folder: URL, dtype: DType, device: (String) -> Device = { _ in .cpu }) throws -> [String: Tensor] {
    let index = folder.appendingPathComponent(ShardedSafeTensors.indexFileName)
    let single = folder.appendingPathComponent(ShardedSafeTensors.singleFileName)
    guard FileManager.default.fileExists(atPath: index.path) || FileManager.default.fileExists(atPath: single.path) else {
        throw ModelError.missingFile(single.path)
    }
    let checkpoint = try ShardedSafeTensors(directory: folder)
    let tensors = try Dictionary(uniqueKeysWithValues: checkpoint.tensorNames.map { ($0, try checkpoint.tensor($0)) })
    var result: [String: Tensor] = [:]
    for (name, stored) in tensors {
        guard let storedType = torchDType(stored.dtype) else {
            throw ModelError.malformedCheckpoint(file: name, reason: "dtype \(stored.dtype) has no tensor equivalent")
        }
        let tensor = try Tensor(borrowing: stored.bytes, shape: stored.shape, dtype: storedType, owner: stored.storage)
        let converted = storedType.isFloatingPoint && storedType != dtype ? try tensor.to(dtype) : tensor
        // One tensor at a time: a converted host copy is freed before the next is made.
        let target = device(name)
        result[name] = target == .cpu ? converted : try converted.to(device: target)
    }
    return result
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
func modelWeights(_ weights: [String: Tensor], configuration: ModelConfiguration) throws -> [String: Tensor] {
    var result: [String: Tensor] = [:]
    let combined = try configuration.family.combineCheckpointTensorsErased(weights, config: configuration.config)
    for (name, tensor) in combined {
        if let key = try configuration.family.modelKeyErased(forCheckpointKey: name, config: configuration.config) {
            result[key] = tensor
        }
    }
    return result
}
