import NNsightTorch

/// The children, parameters and buffers of one module, found by reflection over its stored
/// properties in declaration order (base-class properties first).
struct Members {
    var children: [(name: String, module: Module)] = []
    var parameters: [(name: String, parameter: Parameter)] = []
    var buffers: [(name: String, buffer: Buffer)] = []

    init(of module: Module) {
        if let list = module as? any ModuleListProtocol {
            children = list.namedElements
            return
        }
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: module)
        while let current = mirror, current.subjectType != Module.self {
            mirrors.append(current)
            mirror = current.superclassMirror
        }
        for current in mirrors.reversed() {
            for child in current.children {
                guard let label = child.label else { continue }
                add(name: label, value: child.value)
            }
        }
    }

    private mutating func add(name: String, value: Any) {
        // A property wrapper's storage is labelled "_name".
        let name = name.hasPrefix("_") ? String(name.dropFirst()) : name
        switch unwrapOptional(value) {
        case let module as Module: children.append((name, module))
        case let parameter as Parameter: parameters.append((name, parameter))
        case let buffer as Buffer: buffers.append((name, buffer))
        default: break
        }
    }

    private func unwrapOptional(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        guard mirror.displayStyle == .optional else { return value }
        return mirror.children.first?.value
    }
}
