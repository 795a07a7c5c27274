import NNsightNN
import NNsightTorch

/// The operations of a marked function, reached as `envoy.source`. Python: `envoy.source`
/// (nnsight's `SourceAccessor`).
///
/// ```swift
/// try model.trace("Hello") { m in
///     let attention = try m.transformer.h[0].attn.source
///     let pattern = try attention.pattern_0.output           // [batch, heads, query, key]
///     try attention.self_c_proj_0.setOutput(zeros)
/// }
/// print(try model.root.transformer.h[0].attn.source)         // the forward, ops beside lines
/// ```
///
/// Each operation is an ``Envoy`` (`model.transformer.h.0.attn.source.pattern_0`) with
/// `.output`, `.input`, `.inputs`, `setOutput`, `setInput`, `skip` and `next`, in invokes,
/// generation steps, caches and barriers, exactly as a module's envoy. Its calls count with its
/// module's, so in `for _ in tracer.iter(0..<3)` it addresses each step's call. An operation
/// whose callee is itself marked `@Sourced` has a `.source` of its own (inside a trace).
@dynamicMemberLookup
public final class SourceEnvoy: CustomStringConvertible {
    /// `<module path>.source`, or `<operation path>.source`.
    public let path: String
    let points: SourcePoints
    unowned let tree: EnvoyTree
    let countingIndex: Int

    init(path: String, points: SourcePoints, tree: EnvoyTree, countingIndex: Int) {
        self.path = path
        self.points = points
        self.tree = tree
        self.countingIndex = countingIndex
    }

    /// Python: `source.<op>`. An unknown name throws ``SourceError/unknownOperation(path:name:valid:)``.
    public subscript(dynamicMember name: String) -> Envoy {
        get throws { try operation(name) }
    }

    /// The operation named `name` (`"self_c_attn_0"`).
    public func operation(_ name: String) throws -> Envoy {
        let hookPoint = try points.operation(named: name, path: path)
        if let existing = tree.operationEnvoys[ObjectIdentifier(hookPoint)] { return existing }
        let envoy = tree.append { index in
            Envoy(path: "\(path).\(name)", module: hookPoint, tree: tree, children: [], index: index,
                  countingIndex: countingIndex)
        }
        hookPoint.path = envoy.path
        tree.operationEnvoys[ObjectIdentifier(hookPoint)] = envoy
        return envoy
    }

    /// The operation names in execution order (empty for a recursive source whose function has
    /// not run yet). Python: `[op.name for op in source]`.
    public var operations: [String] { points.listing?.operations ?? [] }

    /// The function's source with each operation beside its line, as Python prints it.
    public var description: String {
        points.listing?.formatted ?? "\(path): the function's listing is known once it has run inside this operation"
    }
}

extension Envoy {
    /// The operations of this module's marked `forward`, or (on an operation, inside a trace)
    /// of the marked function the operation calls. Python: `envoy.source`, `op.source`.
    ///
    /// Throws ``SourceError/notSourced(path:)`` for a module whose forward is not marked,
    /// ``SourceError/outsideTrace(path:)`` for an operation outside a trace, and
    /// ``SourceError/sourceOnModule(path:module:)`` for an operation that calls a module.
    public var source: SourceEnvoy {
        get throws {
            guard let tree else { throw SourceError.notSourced(path: path) }
            if let operation = module as? SourceOperation { return try recursiveSource(operation, tree: tree) }
            guard let points = module.makeSourcePoints() else { throw SourceError.notSourced(path: path) }
            return SourceEnvoy(path: "\(path).source", points: points, tree: tree, countingIndex: index)
        }
    }

    private func recursiveSource(_ operation: SourceOperation, tree: EnvoyTree) throws -> SourceEnvoy {
        // Inside a trace of this tree: a local one, or a remote invoke (whose server binds the
        // scope when the function runs there).
        guard Mediator.current?.treeIdentity == treeIdentity || RemoteEnvoyAccessScope.current?.treeIdentity == treeIdentity else {
            throw SourceError.outsideTrace(path: path)
        }
        // `self.c_attn(x)` calls a module: that module has a `.source` of its own.
        let ownerPath = String(path.dropLast(".source.".count + operation.name.count))
        if let child = calledChild(operation, of: operation.scope.owner) {
            throw SourceError.sourceOnModule(path: path, module: "\(ownerPath).\(child)")
        }
        return SourceEnvoy(path: "\(path).source", points: operation.makeChild(), tree: tree, countingIndex: countingIndex)
    }

    /// The child module an operation named `self_<child>_<n>` calls, if it is one.
    private func calledChild(_ operation: SourceOperation, of owner: Module) -> String? {
        guard operation.name.hasPrefix("self_"), let underscore = operation.name.lastIndex(of: "_") else { return nil }
        let child = String(operation.name[operation.name.index(operation.name.startIndex, offsetBy: 5)..<underscore])
        return owner.namedChildren.contains { $0.name == child } ? child : nil
    }

    /// An operation printed as Python prints `source.<op>`: its line in context.
    func operationDescription(_ operation: SourceOperation) -> String {
        let listing = operation.scope.listing
        return listing?.formatted(operation: operation.name, path: path) ?? path
    }
}
