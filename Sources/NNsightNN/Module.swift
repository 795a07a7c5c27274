import NNsightTorch

/// A building block of a model, with one central call path that every call goes through.
///
/// Subclasses declare their children, parameters and buffers as stored properties, named as the
/// checkpoint names them (`c_attn`, `ln_1`, `weight`); the tree is discovered once, in
/// declaration order, so the Swift property, the weight key and the nnsight path are one string
/// (`transformer.h.0.attn.c_attn.weight`). A ``ModuleList`` names its elements `0`, `1`, ….
///
/// Calls: `try module(x, context)` runs pre-hooks → ``forward(_:_:)`` → post-hooks. When no hook
/// is registered the call is a plain `forward` call. Python: `nn.Module.__call__`.
///
/// Thread safety: a module is used by one thread at a time (the intervention engine hands the
/// model between threads strictly in turn).
open class Module {
    /// Python: `module.training`.
    public private(set) var training = true

    var hooks = ModuleHooks()
    private var nextHookID = 0
    private var discovered: Members?

    public init() {}

    /// Override to compute the output. Call modules through `callAsFunction`, never `forward`,
    /// so that hooks see the call.
    open func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        throw ModuleError.forwardNotImplemented(type: typeName)
    }

    /// The one call path: pre-hooks, `forward`, post-hooks. Hooks added while the call runs
    /// (by code that observes a parent while a child runs) still see its output.
    public final func callAsFunction(_ input: Tensor, _ context: ForwardContext = ForwardContext()) throws -> Tensor {
        callCount &+= 1
        var input = input
        var context = context
        if let placement {
            // A model split over devices: this module's input arrives from the one before.
            if input.device != placement { input = try input.to(device: placement) }
            context = try context.moved(to: placement)
        }
        var output: Tensor
        if hooks.pre.isEmpty {
            output = try forward(input, context)
        } else {
            (input, output) = try callWithPreHooks(input, context)
        }
        if !hooks.post.isEmpty {
            for (_, hook) in hooks.post {
                if let replacement = try hook(self, input, output) { output = replacement }
            }
        }
        completedCallCount &+= 1
        return output
    }

    /// Runs the pre-hooks and then `forward` (unless a hook skips it); returns the input as the
    /// hooks left it and the output.
    private func callWithPreHooks(_ input: Tensor, _ context: ForwardContext) throws -> (Tensor, Tensor) {
        var input = input
        for (_, hook) in hooks.pre {
            switch try hook(self, input, context) {
            case .proceed: break
            case .replaceInput(let replacement):
                // A placed module takes a written input from any device (a differentiable copy).
                input = try placement.map { replacement.device == $0 ? replacement : try replacement.to(device: $0) } ?? replacement
            case .skip(let output): return (input, output)
            }
        }
        return (input, try forward(input, context))
    }

    /// How many calls of this module have started, ever (its pre-hooks see the count including
    /// the current call). The intervention engine addresses repeated calls by it.
    public internal(set) var callCount = 0

    /// How many calls of this module have returned (its post-hooks see the count excluding the
    /// current call).
    public internal(set) var completedCallCount = 0

    // MARK: Hooks

    /// Registers a hook that runs before `forward`. Python: `register_forward_pre_hook`.
    @discardableResult
    public func registerForwardPreHook(_ hook: @escaping ForwardPreHook) -> HookHandle {
        nextHookID += 1
        hooks.pre.append((nextHookID, hook))
        hooksDidChange()
        return HookHandle(module: self, id: nextHookID, isPre: true)
    }

    /// Registers a hook that runs after `forward`. Python: `register_forward_hook`.
    @discardableResult
    public func registerForwardHook(_ hook: @escaping ForwardHook) -> HookHandle {
        nextHookID += 1
        hooks.post.append((nextHookID, hook))
        hooksDidChange()
        return HookHandle(module: self, id: nextHookID, isPre: false)
    }

    func removeHook(id: Int, isPre: Bool) {
        if isPre {
            if let index = hooks.pre.firstIndex(where: { $0.id == id }) { hooks.pre.remove(at: index) }
        } else {
            if let index = hooks.post.firstIndex(where: { $0.id == id }) { hooks.post.remove(at: index) }
        }
        hooksDidChange()
    }

    /// Called after a hook was added or removed (source operations track whether any is set).
    func hooksDidChange() {}

    // MARK: Source

    /// The listing of this module's `forward` when it is marked `@Sourced` (the macro overrides
    /// this); nil otherwise. nnsight: what `envoy.source` prints.
    open var sourceListing: SourceListing? { nil }

    /// The hook points of this module's marked `forward`, made on the first `.source` request
    /// (``makeSourcePoints()``); the marked `forward` reads it once per call.
    public internal(set) var sourcePoints: SourcePoints?

    /// The number of hooks registered on this module (not its children).
    public var hookCount: Int { hooks.pre.count + hooks.post.count }

    // MARK: Tree

    /// This module's type name, as printed (`Linear`, `GPT2Block`).
    open var typeName: String { String(describing: type(of: self)) }

    private var members: Members {
        if let discovered { return discovered }
        let found = Members(of: self)
        discovered = found
        return found
    }

    /// Forgets the discovered members; call after replacing a child module property.
    public func invalidateTree() { discovered = nil }

    /// Direct children, in declaration order. Python: `named_children()`.
    open var namedChildren: [(name: String, module: Module)] { members.children }

    /// This module's own parameters. Python: `named_parameters(recurse=False)`.
    public var ownParameters: [(name: String, parameter: Parameter)] { members.parameters }

    /// This module's own buffers.
    public var ownBuffers: [(name: String, buffer: Buffer)] { members.buffers }

    /// Every module in the tree, this one first (name ""), depth first in declaration order.
    /// Python: `named_modules()`.
    public func namedModules(prefix: String = "") -> [(name: String, module: Module)] {
        var result: [(String, Module)] = [(prefix, self)]
        for (name, child) in namedChildren {
            result += child.namedModules(prefix: prefix.isEmpty ? name : "\(prefix).\(name)")
        }
        return result
    }

    /// Every parameter in the tree by dotted name. Python: `named_parameters()`.
    public func namedParameters() -> [(name: String, parameter: Parameter)] {
        var seen = Set<ObjectIdentifier>()
        var result: [(String, Parameter)] = []
        for (path, module) in namedModules() {
            for (name, parameter) in module.ownParameters where seen.insert(ObjectIdentifier(parameter)).inserted {
                result.append((path.isEmpty ? name : "\(path).\(name)", parameter))
            }
        }
        return result
    }

    /// Every parameter's tensor. Python: `parameters()`.
    public var parameters: [Tensor] { namedParameters().map { $0.parameter.value } }

    /// Every buffer in the tree by dotted name.
    public func namedBuffers() -> [(name: String, buffer: Buffer)] {
        namedModules().flatMap { path, module in
            module.ownBuffers.map { (path.isEmpty ? $0.name : "\(path).\($0.name)", $0.buffer) }
        }
    }

    /// The module at a dotted path relative to this one (`"h.0.attn"`), or nil.
    public func module(at path: String) -> Module? {
        if path.isEmpty { return self }
        var current: Module = self
        for part in path.split(separator: ".") {
            guard let next = current.namedChildren.first(where: { $0.name == part })?.module else { return nil }
            current = next
        }
        return current
    }

    // MARK: Modes and conversion

    /// Python: `module.train(mode)`; applies to the whole tree.
    @discardableResult
    public func train(_ mode: Bool = true) -> Self {
        for (_, module) in namedModules() { module.training = mode }
        return self
    }

    /// Python: `module.eval()`.
    @discardableResult
    public func eval() -> Self { train(false) }

    /// Converts floating-point parameters and buffers to `dtype`. Python: `module.to(dtype)`.
    /// Packed linear weights (``packLinearWeights(packingShared:replaced:)``) are packed again in the new dtype.
    @discardableResult
    public func to(_ dtype: DType) throws -> Self {
        try keepingLinearWeightsPacked {
            for (_, parameter) in namedParameters() where parameter.dtype.isFloatingPoint {
                parameter.value = try parameter.value.to(dtype)
            }
            for (_, buffer) in namedBuffers() where buffer.value.dtype.isFloatingPoint {
                buffer.value = try buffer.value.to(dtype)
            }
        }
        return self
    }

    /// The device this module's calls run on when a model is split over devices (set by
    /// ``place(on:)``); nil when calls run wherever their input is.
    public private(set) var placement: Device?

    /// Moves this module's parameters and buffers to `device` and makes every call move its
    /// input and its context's tensors there first, before the pre-hooks (so hooks and envoys see
    /// them on this device). How a model is split over several devices: each block placed on its
    /// own, activations moved at the boundaries. Python: accelerate's `AlignDevicesHook`.
    public func place(on device: Device) throws {
        try to(device: device)
        placement = device
    }

    /// Moves parameters and buffers to `device`. Python: `module.to(device)`. Packed linear
    /// weights are packed again where the device has a packed form.
    @discardableResult
    public func to(device: Device) throws -> Self {
        try keepingLinearWeightsPacked {
            for (_, parameter) in namedParameters() { parameter.value = try parameter.value.to(device: device) }
            for (_, buffer) in namedBuffers() { buffer.value = try buffer.value.to(device: device) }
        }
        return self
    }

    /// The part inside the parentheses when printed, e.g. `in_features=4, out_features=2, bias=True`.
    /// Python: `extra_repr()`.
    open var extraDescription: String { "" }
}

/// Errors of the module system, naming what was wrong and where.
public enum ModuleError: Error, CustomStringConvertible, Equatable {
    case forwardNotImplemented(type: String)
    case stateDictMismatch(missing: [String], unexpected: [String], shapes: [String])
    case invalidArgument(module: String, message: String)

    public var description: String {
        switch self {
        case .forwardNotImplemented(let type):
            return "\(type) does not implement forward(_:_:)"
        case .stateDictMismatch(let missing, let unexpected, let shapes):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing keys: \(missing.joined(separator: ", "))") }
            if !unexpected.isEmpty { parts.append("unexpected keys: \(unexpected.joined(separator: ", "))") }
            if !shapes.isEmpty { parts.append("shape mismatches: \(shapes.joined(separator: "; "))") }
            return "Error(s) in loading state dict: " + parts.joined(separator: "; ")
        case .invalidArgument(let module, let message):
            return "\(module): \(message)"
        }
    }
}
