import Foundation
import NNsightTorch

/// A learnable tensor owned by a module, found by name (`weight`, `bias`) when the module tree is
/// walked. Python: `torch.nn.Parameter`.
///
/// A box, so that loading a checkpoint or moving a model to another dtype replaces the tensor
/// every holder of the module sees.
///
/// A linear layer's weight may be held in a packed form instead (see
/// ``Module/packLinearWeights(packingShared:replaced:)``): `value` then unpacks it on first access and keeps that plain
/// tensor, and an in-place change to it is packed again before the next product.
public final class Parameter: Sendable {
    private struct State {
        /// The plain tensor; nil while only the packed form is held.
        var plain: Tensor?
        /// The packed form of the weight (`F.packLinearWeight`), nil if none.
        var packed: Tensor?
        /// `plain.version` when `packed` was made from it or unpacked into it.
        var packedVersion = 0
    }

    /// Guards `state`. An `NSLock` (a pthread mutex), not a `Synchronization.Mutex`: one model's
    /// parameters are read by every thread that runs it, and ThreadSanitizer does not model a
    /// contended `Mutex`'s futex handoff on Linux (it reports the locked accesses as races).
    private let lock = NSLock()
    /// Guarded by `lock`.
    nonisolated(unsafe) private var state: State

    public init(_ value: Tensor) {
        state = State(plain: value)
    }

    /// The current value. Replaced (not copied into) by `load(stateDict:)` and `to(_:)`; a new
    /// value drops the packed form.
    public var value: Tensor {
        get {
            lock.withLock {
                if let plain = state.plain { return plain }
                guard let packed = state.packed else { preconditionFailure("a Parameter holds no tensor") }
                do {
                    let plain = try F.unpackLinearWeight(packed)
                    state.plain = plain
                    state.packedVersion = plain.version
                    return plain
                } catch {
                    preconditionFailure("unpacking a linear weight of shape \(packed.shape) failed: \(error)")
                }
            }
        }
        set {
            lock.withLock {
                state.plain = newValue
                state.packed = nil
            }
        }
    }

    /// The value's shape, without unpacking a packed weight.
    public var shape: [Int] { lock.withLock { (state.plain ?? state.packed)?.shape ?? [] } }

    /// The number of elements, without unpacking a packed weight.
    public var count: Int { shape.reduce(1, *) }

    /// The value's dtype, without unpacking a packed weight.
    public var dtype: DType { lock.withLock { (state.plain ?? state.packed)?.dtype ?? .float32 } }

    /// Whether the weight is held in its packed form (alone or beside its plain value).
    public var isPacked: Bool { lock.withLock { state.packed != nil } }

    /// The plain value as held (nil while only the packed form is), without unpacking.
    var plainValue: Tensor? { lock.withLock { state.plain } }

    /// Makes the packed form of the value for `F.linear(_:packed:plain:bias:)` where one exists
    /// (large float32 and bfloat16 CPU weights); then drops the plain value, unless
    /// `keepingValue` (a weight another module also reads, such as tied embeddings): that one is
    /// kept, laid out transposed (`value` has the same shape and elements, and `value.t()` is
    /// contiguous), the layout in which one-row float32 products are fastest. Does nothing for values
    /// that have no packed form or are already packed.
    public func packForLinear(keepingValue: Bool) throws {
        try lock.withLock {
            guard state.packed == nil, let plain = state.plain, !plain.requiresGrad,
                  let packed = try F.packLinearWeight(plain) else { return }
            state.packed = packed
            if keepingValue {
                let transposed = plain.isContiguous ? try plain.t().contiguous().t() : plain
                state.plain = transposed
                state.packedVersion = transposed.version
            } else {
                state.plain = nil
            }
        }
    }

    /// The forms to multiply by: the packed one (packed again first if the plain value was
    /// changed in place since) and the plain value if it is held; nil when there is no packed
    /// form, or when the value requires a gradient (autograd needs the plain product).
    public func linearForms() throws -> (packed: Tensor, plain: Tensor?)? {
        try lock.withLock {
            guard let packed = state.packed else { return nil }
            guard let plain = state.plain else { return (packed, nil) }
            if plain.requiresGrad { return nil }
            let version = plain.version
            if version == state.packedVersion { return (packed, plain) }
            guard let repacked = try F.packLinearWeight(plain) else {
                state.packed = nil
                return nil
            }
            state.packed = repacked
            state.packedVersion = version
            return (repacked, plain)
        }
    }
}

/// A tensor a module keeps that is not learned (a rotary frequency table, a causal mask).
/// Python: `module.register_buffer(name, tensor, persistent=)`. Persistent buffers are part of the
/// state dict.
public final class Buffer {
    public var value: Tensor
    public let persistent: Bool

    public init(_ value: Tensor, persistent: Bool = true) {
        self.value = value
        self.persistent = persistent
    }
}
