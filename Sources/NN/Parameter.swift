import Torch

/// A learnable tensor owned by a module, found by name (`weight`, `bias`) when the module tree is
/// walked. Python: `torch.nn.Parameter`.
///
/// A box, so that loading a checkpoint or moving a model to another dtype replaces the tensor
/// every holder of the module sees.
public final class Parameter: @unchecked Sendable {
    /// The current value. Replaced (not copied into) by `load(stateDict:)` and `to(_:)`.
    public var value: Tensor

    public init(_ value: Tensor) {
        self.value = value
    }
}

/// A tensor a module keeps that is not learned (a rotary frequency table, a causal mask).
/// Python: `module.register_buffer(name, tensor, persistent=)`. Persistent buffers are part of the
/// state dict.
public final class Buffer: @unchecked Sendable {
    public var value: Tensor
    public let persistent: Bool

    public init(_ value: Tensor, persistent: Bool = true) {
        self.value = value
        self.persistent = persistent
    }
}
