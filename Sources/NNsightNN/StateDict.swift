import NNsightTorch

extension Module {
    /// Parameters and persistent buffers by dotted name, in tree order. Python: `state_dict()`.
    public func stateDict() -> [(name: String, tensor: Tensor)] {
        namedParameters().map { ($0.name, $0.parameter.value) }
            + namedBuffers().filter { $0.buffer.persistent }.map { ($0.name, $0.buffer.value) }
    }

    /// Replaces parameters and persistent buffers with the tensors of `stateDict` (no copy).
    /// Python: `load_state_dict(state_dict, strict=)`.
    ///
    /// Throws ``ModuleError/stateDictMismatch(missing:unexpected:shapes:)`` naming every missing
    /// key and unexpected key (when `strict`) and every shape mismatch (always); on error nothing
    /// is changed. Packed linear weights (``packLinearWeights(packingShared:replaced:)``) are packed again from the new
    /// values.
    public func load(stateDict: [String: Tensor], strict: Bool = true) throws {
        var targets: [(name: String, shape: [Int], assign: (Tensor) -> Void)] = []
        for (name, parameter) in namedParameters() {
            targets.append((name, parameter.shape, { parameter.value = $0 }))
        }
        for (name, buffer) in namedBuffers() where buffer.persistent {
            targets.append((name, buffer.value.shape, { buffer.value = $0 }))
        }
        let known = Set(targets.map(\.name))
        let missing = targets.map(\.name).filter { stateDict[$0] == nil }
        let unexpected = stateDict.keys.filter { !known.contains($0) }.sorted()
        let shapes = targets.compactMap { target -> String? in
            guard let tensor = stateDict[target.name], tensor.shape != target.shape else { return nil }
            return "\(target.name): checkpoint has \(tensor.shape), model has \(target.shape)"
        }
        if !shapes.isEmpty || (strict && (!missing.isEmpty || !unexpected.isEmpty)) {
            throw ModuleError.stateDictMismatch(missing: strict ? missing : [], unexpected: strict ? unexpected : [],
                                                shapes: shapes)
        }
        try keepingLinearWeightsPacked {
            for target in targets {
                if let tensor = stateDict[target.name] { target.assign(tensor) }
            }
        }
    }
}
