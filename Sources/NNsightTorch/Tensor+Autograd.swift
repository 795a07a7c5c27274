internal import CNNsightTorch
import Foundation

/// The Swift error a gradient hook threw, parked on the thread running the backward pass until
/// the failed `backward` call turns it into a ``TorchError``.
enum GradHookFailure {
    private static let key = "swift-nnsight.gradHookFailure"

    private final class Box { let error: any Error; init(_ error: any Error) { self.error = error } }

    static func park(_ error: any Error) {
        Thread.current.threadDictionary[key] = Box(error)
    }

    static func take() -> (any Error)? {
        let box = Thread.current.threadDictionary[key] as? Box
        Thread.current.threadDictionary[key] = nil
        return box?.error
    }
}

/// A registered gradient hook; `remove()` unregisters it. Python: the handle `x.register_hook` returns.
public final class GradHook {
    private let tensor: Tensor
    private let id: UInt64
    private var removed = false

    init(tensor: Tensor, id: UInt64) {
        self.tensor = tensor
        self.id = id
    }

    /// Python: `handle.remove()`.
    public func remove() throws(TorchError) {
        guard !removed else { return }
        removed = true
        try check(ctorch_remove_grad_hook(tensor.handle, id))
    }
}

private final class GradHookBody {
    let body: (Tensor) throws -> Tensor?
    init(_ body: @escaping (Tensor) throws -> Tensor?) { self.body = body }
}

extension Tensor {
    /// Python: `tensor._version`: bumped by every in-place change of this tensor or of a view of
    /// its storage, so that data derived from it can tell when it is stale (0 for tensors made in
    /// inference mode, which keep no counter).
    public var version: Int { Int(ctorch_version(handle)) }

    /// Python: `x.requires_grad`. Setting it on a tensor that cannot require gradients (an
    /// integer tensor, a non-leaf) reports to the error sink; see ``requiresGrad_(_:)``.
    public var requiresGrad: Bool {
        get { ctorch_requires_grad(handle) }
        set {
            do { try requiresGrad_(newValue) } catch { TorchErrorSink.report(error) }
        }
    }

    /// Python: `x.requires_grad_(flag)`, throwing.
    @discardableResult
    public func requiresGrad_(_ flag: Bool = true) throws(TorchError) -> Tensor {
        try check(ctorch_set_requires_grad(handle, flag))
        return self
    }

    /// Python: `x.is_leaf`.
    public var isLeaf: Bool { ctorch_is_leaf(handle) }

    /// Python: `x.grad_fn.name()`; nil for leaves.
    public var gradFunctionName: String? {
        let name = String(cString: ctorch_grad_fn_name(handle))
        return name.isEmpty ? nil : name
    }

    /// Python: `x.grad`: the accumulated gradient, or nil.
    public var grad: Tensor? {
        var out: ctorch_tensor?
        guard ctorch_grad(handle, &out) == CTORCH_OK, let out else { return nil }
        return Tensor(owning: out)
    }

    /// Python: `x.grad = g` (nil clears it).
    public func setGrad(_ gradient: Tensor?) throws(TorchError) {
        try withExtendedLifetime(gradient) { () throws(TorchError) in
            try check(ctorch_set_grad(handle, gradient?.handle))
        }
    }

    /// Python: `x.retain_grad()`: keep `.grad` on a non-leaf.
    public func retainGrad() throws(TorchError) { try check(ctorch_retain_grad(handle)) }

    /// Python: `x.backward(gradient, retain_graph=, create_graph=)`. A gradient hook that throws
    /// fails the pass with `TorchError.Kind.hookFailed`, its error in `underlying`.
    public func backward(gradient: Tensor? = nil, retainGraph: Bool = false, createGraph: Bool = false) throws(TorchError) {
        try withExtendedLifetime(gradient) { () throws(TorchError) in
            try check(ctorch_backward(handle, gradient?.handle, retainGraph, createGraph))
        }
    }

    /// Python: `x.register_hook(fn)`. `hook` receives the gradient flowing into `x` and returns a
    /// replacement or nil to keep it. It runs on the thread that calls `backward`.
    @discardableResult
    public func registerHook(_ hook: @escaping (Tensor) throws -> Tensor?) throws(TorchError) -> GradHook {
        let context = Unmanaged.passRetained(GradHookBody(hook)).toOpaque()
        var id: UInt64 = 0
        let status = ctorch_register_grad_hook(
            handle,
            { context, grad, replacement in
                let body = Unmanaged<GradHookBody>.fromOpaque(context!).takeUnretainedValue()
                do {
                    let gradient = Tensor(owning: try retainedHandle(grad))
                    if let result = try body.body(gradient) {
                        replacement.pointee = try retainedHandle(result.handle)
                    }
                    return 0
                } catch {
                    GradHookFailure.park(error)
                    return 1
                }
            },
            context,
            { Unmanaged<GradHookBody>.fromOpaque($0!).release() },
            &id)
        try check(status)
        return GradHook(tensor: self, id: id)
    }
}
