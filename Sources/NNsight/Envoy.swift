import NNsightNN
import NNsightTorch

/// A handle on one module of a wrapped model, for reading and changing its values while the
/// model runs. Python: `nnsight.Envoy`.
///
/// Children are reached by name and index, as in Python: `m.transformer.h[-1].mlp`
/// (negative indices resolve to real paths, `model.transformer.h.11`). An unknown name or an
/// index out of range throws, naming the path and what exists.
///
/// Inside a trace's closure, `.output`, `.input` and `.inputs` wait until the model reaches the
/// module and return real tensors; `setOutput`, `setInput` and `skip` change what the model
/// computes next. Outside a trace they throw `NNsightError.outsideInterleaving`.
@dynamicMemberLookup
public final class Envoy: CustomStringConvertible {
    /// Python: `envoy.path`, e.g. `model.transformer.h.0.mlp`.
    public let path: String
    /// The wrapped module.
    public let module: Module
    /// Position in the tree's flat list (for per-trace bookkeeping).
    package let index: Int
    /// The tree this envoy belongs to (owned by the model wrapper).
    weak var tree: EnvoyTree?
    /// The tree's identity (``EnvoyTree/identity``, never reused), compared on every access
    /// without loading the weak reference.
    let treeIdentity: UInt64
    /// Direct children in declaration order, by their module names.
    public let children: [(name: String, envoy: Envoy)]
    /// The envoy whose call counts address this one's calls: itself for a module, the module
    /// whose forward contains it for a `.source` operation (SourceEnvoy.swift).
    let countingIndex: Int

    init(path: String, module: Module, tree: EnvoyTree, children: [(name: String, envoy: Envoy)], index: Int,
         countingIndex: Int? = nil) {
        self.path = path
        self.module = module
        self.tree = tree
        treeIdentity = tree.identity
        self.children = children
        self.index = index
        self.countingIndex = countingIndex ?? index
    }

    // MARK: Navigation

    /// Python: `envoy.<name>`, also through aliases given as `rename:`.
    public subscript(dynamicMember name: String) -> Envoy {
        get throws { try child(named: name) }
    }

    /// The child named `name` (or an alias of it).
    public func child(named name: String) throws -> Envoy {
        if let found = children.first(where: { $0.name == name }) { return found.envoy }
        if let target = tree?.resolveAlias(name, at: self) { return target }
        throw NNsightError.unknownChild(path: path, name: name, valid: children.map(\.name) + (tree?.aliases(at: self) ?? []))
    }

    /// Python: `envoy[i]`: the i-th child; negative indices count from the end.
    public subscript(_ position: Int) -> Envoy {
        get throws {
            let resolved = position < 0 ? position + children.count : position
            guard children.indices.contains(resolved) else {
                throw NNsightError.indexOutOfRange(path: path, index: position, count: children.count)
            }
            return children[resolved].envoy
        }
    }

    /// Python: `len(envoy)`.
    public var count: Int { children.count }

    /// The envoy at a dotted path relative to this one (`"transformer.h.0.mlp"`).
    /// Python: `model.get("transformer.h.0.mlp")`.
    public func get(_ relativePath: String) throws -> Envoy {
        var current = self
        for part in relativePath.split(separator: ".") {
            if let number = Int(part) { current = try current[number] } else { current = try current.child(named: String(part)) }
        }
        return current
    }

    /// Every envoy below and including this one, children first, this one last.
    /// Python: `envoy.modules()`.
    public func modules() -> [Envoy] {
        children.flatMap { $0.envoy.modules() } + [self]
    }

    /// Python: `named_modules()`: `(path, envoy)` pairs, this envoy first.
    public func namedModules() -> [(path: String, envoy: Envoy)] {
        [(path, self)] + children.flatMap { $0.envoy.namedModules() }
    }

    /// The model printed as PyTorch does, with aliases shown as `alias/name`.
    public var description: String {
        if let operation = module as? SourceOperation { return operationDescription(operation) }
        return module.describe(childKey: { [tree] name in tree?.printedKey(for: name) ?? name })
    }

    // MARK: Values

    /// The module's output on the current call. Python: `envoy.output`.
    public var output: Tensor {
        get throws {
            if let mediator = localMediator() { return try mediator.read(self, .output) }
            return try RemoteEnvoyAccessScope.require(for: self, key: .output, action: "access").read(self, .output)
        }
    }

    /// The module's main input on the current call. Python: `envoy.input`.
    public var input: Tensor {
        get throws {
            if let mediator = localMediator() { return try mediator.read(self, .input) }
            return try RemoteEnvoyAccessScope.require(for: self, key: .input, action: "access").read(self, .input)
        }
    }

    /// The main input and the named arguments (masks, positions, caches) of the current call.
    /// Python: `envoy.inputs` (`(args, kwargs)`).
    public var inputs: (input: Tensor, context: ForwardContext) {
        get throws {
            guard let mediator = localMediator() else {
                let backend = try RemoteEnvoyAccessScope.require(for: self, key: .input, action: "access")
                return (try backend.read(self, .input), try backend.lastContext(self))
            }
            let value = try mediator.read(self, .input)
            return (value, mediator.lastContext ?? ForwardContext())
        }
    }

    /// Replaces the module's output; the model continues with `value` (for this invoke's rows).
    /// Python: `envoy.output = value`.
    public func setOutput(_ value: Tensor) throws {
        if let mediator = localMediator() { return try mediator.write(self, .output, value) }
        try RemoteEnvoyAccessScope.require(for: self, key: .output, action: "set").write(self, .output, value)
    }

    /// Replaces the module's main input. Python: `envoy.input = value`.
    public func setInput(_ value: Tensor) throws {
        if let mediator = localMediator() { return try mediator.write(self, .input, value) }
        try RemoteEnvoyAccessScope.require(for: self, key: .input, action: "set").write(self, .input, value)
    }

    /// Skips the module's forward on the current call, using `value` as its output.
    /// Python: `envoy.skip(value)`.
    public func skip(_ value: Tensor) throws {
        if let mediator = localMediator() { return try mediator.write(self, .skip, value) }
        try RemoteEnvoyAccessScope.require(for: self, key: .skip, action: "skip").write(self, .skip, value)
    }

    /// Moves this invoke on to the module's next call: later requests on this envoy address
    /// call `n + count` (a module called several times in one forward, or the next generation
    /// step). Python: `envoy.next()`.
    @discardableResult
    public func next(_ count: Int = 1) throws -> Envoy {
        if let mediator = localMediator() {
            try mediator.advance(self, by: count)
        } else {
            try RemoteEnvoyAccessScope.require(for: self, key: .output, action: "step").advance(self, by: count)
        }
        return self
    }

    /// Calls the module on `input`, away from its place in the forward pass (the logit lens:
    /// `m.lm_head(m.transformer.ln_f(h))`). Python: calling an envoy, `envoy(x)`.
    ///
    /// Inside a trace the running trace stands down for the call: the module's own hooks run, but
    /// the trace serves and records nothing and counts no call, of this module or anything under
    /// it, so later requests (`.output` of a child, the next step) address the calls they would
    /// have addressed without it, and no other invoke is served a value of this call. (Python's
    /// `hook=True`, which lets the trace watch such a call, is not offered.) Outside a trace it
    /// is an ordinary module call.
    public func callAsFunction(_ input: Tensor, _ context: ForwardContext = ForwardContext()) throws -> Tensor {
        guard let running = Mediator.current else { return try module(input, context) }
        try running.raisePending()
        return try running.interleaver.callByHand { try module(input, context) }
    }
}
