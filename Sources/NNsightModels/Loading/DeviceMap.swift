import NNsightNN
import NNsightTorch

/// How much of a device a model may fill, in bytes. Python: one entry of accelerate's
/// `max_memory={0: "20GiB", 1: "20GiB"}`.
public struct DeviceBudget: Sendable, Equatable {
    public var device: Device
    public var bytes: Int

    public init(_ device: Device, bytes: Int) {
        self.device = device
        self.bytes = bytes
    }
}

/// Which device each part of a model lives on when it is split by layers over several devices.
/// Python: the `device_map` dictionary of `from_pretrained(device_map="auto")`
/// (`{"model.embed_tokens": 0, "model.layers.0": 0, …, "lm_head": 1}`).
///
/// ```swift
/// let checkpoint = try Checkpoint(path: "models/Llama-3.1-70B")
/// let model = try checkpoint.makeModel()
/// let map = try DeviceMap.auto(for: model, names: checkpoint.standardNames, dtype: .bfloat16,
///                              budgets: [DeviceBudget(.cuda(0), bytes: 70 << 30), DeviceBudget(.cuda(1), bytes: 70 << 30)])
/// try checkpoint.loadWeights(into: model, dtype: .bfloat16, deviceMap: map)
/// ```
public struct DeviceMap: Sendable, Equatable, CustomStringConvertible {
    /// One placed part: a module path (`""` for everything the other entries leave out) and its
    /// device, with the bytes it was planned with.
    public struct Entry: Sendable, Equatable {
        public var module: String
        public var device: Device
        public var bytes: Int

        public init(module: String, device: Device, bytes: Int = 0) {
            self.module = module
            self.device = device
            self.bytes = bytes
        }
    }

    /// The placed parts in model order: first the rest of the model (`""`: embeddings and
    /// whatever is outside the layers, on the first device), then each layer, the final norm,
    /// and `lm_head`.
    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    /// The device of the parameter or module at `path`: the entry with the longest path that is
    /// `path` itself or a dotted prefix of it (the `""` entry matches everything).
    public func device(of path: String) -> Device? {
        entries.filter { $0.module.isEmpty || path == $0.module || path.hasPrefix($0.module + ".") }
            .max { $0.module.count < $1.module.count }?.device
    }

    /// The devices used, in order of first use.
    public var devices: [Device] {
        entries.reduce(into: []) { used, entry in if !used.contains(entry.device) { used.append(entry.device) } }
    }

    /// Bytes planned on each device.
    public func plannedBytes(on device: Device) -> Int {
        entries.filter { $0.device == device }.reduce(0) { $0 + $1.bytes }
    }

    public var description: String {
        entries.map { "\($0.module.isEmpty ? "(rest)" : $0.module): \($0.device)" }.joined(separator: "\n")
    }
}

/// Why a device map could not be planned or applied.
public enum DeviceMapError: Error, Equatable, CustomStringConvertible {
    /// No budget was given.
    case noDevices
    /// The parts from `module` on do not fit in what is left of the budgets.
    case doesNotFit(module: String, bytes: Int, remaining: [DeviceBudget])
    /// A path of the map names no module of the model.
    case unknownModule(String)

    public var description: String {
        switch self {
        case .noDevices:
            return "a device map needs at least one device budget"
        case .doesNotFit(let module, let bytes, let remaining):
            let left = remaining.map { "\($0.device): \($0.bytes) bytes" }.joined(separator: ", ")
            return "\(module) (\(bytes) bytes) does not fit in what the budgets have left (\(left.isEmpty ? "nothing" : left))"
        case .unknownModule(let path):
            return "the device map names \(path), which is not a module of this model"
        }
    }
}

extension DeviceMap {
    /// Plans a split as accelerate's `device_map="auto"` does: devices are filled in the order
    /// given, each up to its budget. `head` (embeddings and everything outside the layers) goes
    /// on the first device, the `layers` follow in order, moving to the next device when one
    /// would overflow the current one, and `tail` (final norm, `lm_head`) goes with the last
    /// layer's device, or the next one if it does not fit there. Pure arithmetic: nothing is
    /// allocated. Throws ``DeviceMapError/doesNotFit(module:bytes:remaining:)`` naming the first
    /// part that fits nowhere.
    public static func plan(head: Int, layers: [(module: String, bytes: Int)], tail: [(module: String, bytes: Int)],
                            budgets: [DeviceBudget]) throws -> DeviceMap {
        guard !budgets.isEmpty else { throw DeviceMapError.noDevices }
        var used = Array(repeating: 0, count: budgets.count)
        var current = 0
        var entries: [Entry] = []
        func remaining() -> [DeviceBudget] {
            budgets.indices.dropFirst(current).map { DeviceBudget(budgets[$0].device, bytes: budgets[$0].bytes - used[$0]) }
        }
        func place(_ module: String, _ bytes: Int, canAdvance: Bool) throws {
            while used[current] + bytes > budgets[current].bytes {
                guard canAdvance, current + 1 < budgets.count else {
                    throw DeviceMapError.doesNotFit(module: module.isEmpty ? "embeddings and the rest of the model" : module,
                                                    bytes: bytes, remaining: remaining())
                }
                current += 1
            }
            used[current] += bytes
            entries.append(Entry(module: module, device: budgets[current].device, bytes: bytes))
        }
        try place("", head, canAdvance: false)
        for layer in layers { try place(layer.module, layer.bytes, canAdvance: true) }
        // The tail stays together, after the last layer.
        let tailBytes = tail.reduce(0) { $0 + $1.bytes }
        try place(tail.first?.module ?? "", tailBytes, canAdvance: true)
        let tailDevice = entries.removeLast().device
        entries += tail.map { Entry(module: $0.module, device: tailDevice, bytes: $0.bytes) }
        return DeviceMap(entries: entries)
    }

    /// Plans `model`'s split (built on the meta device is enough: only shapes are read) with
    /// `dtype`'s size for floating-point tensors. `names` says where the layers, final norm and
    /// `lm_head` are (`checkpoint.standardNames`). A head whose weight is tied to the embeddings
    /// stays with them on the first device (one copy of the shared weight, as accelerate keeps
    /// tied parameters together); the final hidden states then travel back to it.
    public static func auto(for model: Module, names: StandardNames, dtype: DType,
                            budgets: [DeviceBudget]) throws -> DeviceMap {
        let modules = Dictionary(model.namedModules().map { ($0.name, $0.module) }, uniquingKeysWith: { first, _ in first })
        // Each parameter once, however many modules share it (a tied head).
        func bytes(_ module: Module) -> Int {
            var seen = Set<ObjectIdentifier>()
            return module.namedParameters().reduce(0) { total, entry in
                let value = entry.parameter
                guard seen.insert(ObjectIdentifier(value)).inserted else { return total }
                let size = value.dtype.isFloatingPoint ? dtype.byteCount : value.dtype.byteCount
                return total + value.shape.reduce(1, *) * size
            }
        }
        guard let layerList = modules[names.layers] else { throw DeviceMapError.unknownModule(names.layers) }
        guard let norm = modules[names.finalNorm] else { throw DeviceMapError.unknownModule(names.finalNorm) }
        guard let head = modules[names.lmHead] else { throw DeviceMapError.unknownModule(names.lmHead) }
        let layers = layerList.namedChildren.map { (module: names.layers + "." + $0.name, bytes: bytes($0.module)) }
        let headParameters = Set(head.namedParameters().map { ObjectIdentifier($0.parameter) })
        let elsewhere = Set(model.namedParameters().filter { !$0.name.hasPrefix(names.lmHead + ".") }
            .map { ObjectIdentifier($0.parameter) })
        let tied = !headParameters.isDisjoint(with: elsewhere)
        let total = bytes(model)
        let layerBytes = layers.reduce(0) { $0 + $1.bytes }
        let tail = [(module: names.finalNorm, bytes: bytes(norm))] + (tied ? [] : [(module: names.lmHead, bytes: bytes(head))])
        let rest = total - layerBytes - tail.reduce(0) { $0 + $1.bytes }
        var map = try plan(head: rest, layers: layers, tail: tail, budgets: budgets)
        if tied { map.entries.append(Entry(module: names.lmHead, device: budgets[0].device, bytes: 0)) }
        return map
    }

    /// Throws ``DeviceMapError/unknownModule(_:)`` for the first path that names no module of `model`.
    public func check(against model: Module) throws {
        let paths = Set(model.namedModules().map(\.name))
        if let unknown = entries.first(where: { !$0.module.isEmpty && !paths.contains($0.module) }) {
            throw DeviceMapError.unknownModule(unknown.module)
        }
    }

    /// Places each part of `model` on its device (``Module/place(on:)``): parameters moved, and
    /// each part's calls moving their input there first. The `""` entry's device receives
    /// everything else (`model.to(device:)`), so pass a model still on the meta device or the
    /// CPU. Throws ``DeviceMapError/unknownModule(_:)`` before moving anything when a path
    /// names no module.
    public func apply(to model: Module) throws {
        try check(against: model)
        let modules = Dictionary(model.namedModules().map { ($0.name, $0.module) }, uniquingKeysWith: { first, _ in first })
        for entry in entries {
            if entry.module.isEmpty { continue }
            try modules[entry.module]?.place(on: entry.device)
        }
        if let rest = entries.first(where: { $0.module.isEmpty }) {
            let placed = Set(entries.map(\.module).filter { !$0.isEmpty })
            for (name, parameter) in model.namedParameters() where !placed.contains(where: { name.hasPrefix($0 + ".") }) {
                parameter.value = try parameter.value.to(device: rest.device)
            }
            for (name, buffer) in model.namedBuffers() where !placed.contains(where: { name.hasPrefix($0 + ".") }) {
                buffer.value = try buffer.value.to(device: rest.device)
            }
        }
    }
}
