import NNsightTorch

/// What a forward pre-hook decides about a call.
public enum ForwardPreHookResult {
    /// Run `forward` on the input as it is.
    case proceed
    /// Run `forward` on this input instead.
    case replaceInput(Tensor)
    /// Do not run `forward`; use this as the output (post-hooks still run). nnsight: `skip`.
    case skip(output: Tensor)
}

/// Runs before `forward`; may read the input (and its context) and replace it or skip the call.
/// Python: `register_forward_pre_hook(hook, with_kwargs=True)`.
public typealias ForwardPreHook = (_ module: Module, _ input: Tensor, _ context: ForwardContext) throws
    -> ForwardPreHookResult

/// Runs after `forward`; may read the input and output and return a replacement output (or nil).
/// Python: `register_forward_hook(hook)`.
public typealias ForwardHook = (_ module: Module, _ input: Tensor, _ output: Tensor) throws -> Tensor?

/// A registered hook; `remove()` unregisters it. Python: `RemovableHandle`.
public struct HookHandle {
    private weak var module: Module?
    let id: Int
    /// Whether the hook runs before `forward` (else after).
    let isPre: Bool

    init(module: Module, id: Int, isPre: Bool) {
        self.module = module
        self.id = id
        self.isPre = isPre
    }

    /// Unregisters the hook; removing twice is harmless.
    public func remove() { module?.removeHook(id: id, isPre: isPre) }
}

/// The hooks of one module, in registration order.
struct ModuleHooks {
    var pre: [(id: Int, hook: ForwardPreHook)] = []
    var post: [(id: Int, hook: ForwardHook)] = []

    var isEmpty: Bool { pre.isEmpty && post.isEmpty }
}
