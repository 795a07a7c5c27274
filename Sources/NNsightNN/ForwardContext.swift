import NNsightTorch

/// The named arguments that travel with a module call besides its main input tensor. Python:
/// the `**kwargs` of `forward` (`attention_mask=`, `position_ids=`, `past_key_values=`,
/// `logits_to_keep=`).
///
/// A value type in two parts:
/// - what the caller passes, typed: ``attentionMask``, ``positionIds``, ``cache``,
///   ``logitsToKeep``;
/// - ``derived``: what one forward pass computes from those for its own layers (boolean masks,
///   rotary tables), set by a model on *its copy* before calling its children. A caller leaves
///   it nil.
///
/// Because it is a value, a model can never change the caller's context: it writes what it
/// derives into a copy (`var inner = context; inner.derived = …`). The one reference inside is
/// ``cache``, whose whole purpose is to be appended to by the model (Python mutates
/// `past_key_values` the same way).
///
/// ```swift
/// // Python: model(ids, attention_mask=mask, past_key_values=cache)
/// let logits = try model(ids, ForwardContext(attentionMask: mask, cache: cache))
/// ```
public struct ForwardContext: Sendable {
    /// Python: `attention_mask`: `[batch, keys]`, 1 for real tokens and 0 for padding, covering
    /// the cached tokens and the new ones.
    public var attentionMask: Tensor?
    /// Python: `position_ids`: `[batch, sequence]` positions of the new tokens.
    public var positionIds: Tensor?
    /// Python: `past_key_values`: keys and values of earlier tokens, appended to by each layer.
    public var cache: (any KeyValueCache)?
    /// Python: `logits_to_keep`: compute logits for the last `n` positions only (nil or 0: all).
    public var logitsToKeep: Int?
    /// What the current forward pass derived for its layers (masks, rotary tables); nil in what
    /// a caller passes. Read it with ``derived(as:)``.
    public var derived: (any DerivedForwardState)?

    public init(attentionMask: Tensor? = nil, positionIds: Tensor? = nil, cache: (any KeyValueCache)? = nil,
                logitsToKeep: Int? = nil) {
        self.attentionMask = attentionMask
        self.positionIds = positionIds
        self.cache = cache
        self.logitsToKeep = logitsToKeep
    }

    /// The derived state if it is of type `State` (each model family declares its own).
    public func derived<State: DerivedForwardState>(as type: State.Type) -> State? {
        derived as? State
    }

    /// The Python names of the caller's arguments present, in signature order (what nnsight's
    /// `.inputs` shows as kwargs), followed by the names of the derived values.
    public var names: [String] {
        var names: [String] = []
        if attentionMask != nil { names.append("attention_mask") }
        if positionIds != nil { names.append("position_ids") }
        if cache != nil { names.append("past_key_values") }
        if logitsToKeep != nil { names.append("logits_to_keep") }
        return names + (derived?.names ?? [])
    }
}

/// State that one forward pass derives from its ``ForwardContext`` and hands to its layers
/// (Python: the `causal_mask`, `position_embeddings`, … a model computes in `forward` and passes
/// down as keyword arguments). Each model family declares one value type conforming to it.
public protocol DerivedForwardState: Sendable {
    /// The Python names of the values present (`position_embeddings`, …), for printing.
    var names: [String] { get }
    /// A copy with every tensor on `device`, for a layer placed there (a model split over
    /// devices, ``Module/place(on:)``). The default, for states holding no tensor, is `self`.
    func moved(to device: Device) throws -> any DerivedForwardState
}

extension DerivedForwardState {
    public func moved(to device: Device) throws -> any DerivedForwardState { self }
}

extension ForwardContext {
    /// A copy with the mask, positions and derived tensors on `device` (the cache is shared: each
    /// layer's entries are made on its own device). Python: accelerate's `send_to_device(kwargs)`.
    public func moved(to device: Device) throws -> ForwardContext {
        var moved = self
        if let mask = attentionMask, mask.device != device { moved.attentionMask = try mask.to(device: device) }
        if let positions = positionIds, positions.device != device { moved.positionIds = try positions.to(device: device) }
        moved.derived = try derived?.moved(to: device)
        return moved
    }
}

/// Keys and values of the tokens seen so far, per layer, that a model appends to as it runs.
/// Python: `transformers.Cache`. Families whose layers cache differently (a layer that keeps
/// nothing) provide their own conforming type; `KVCache` keeps a sliding window's keys only.
///
/// A cache is used by one forward pass at a time: the thread running the model, which the
/// intervention engine hands over strictly in turn.
public protocol KeyValueCache: AnyObject, Sendable {
    /// The number of tokens seen so far (cached before the current call's new tokens).
    var length: Int { get }
    /// Appends the new keys and values `[batch, kvHeads, new, headDim]` of `layer`; returns the
    /// keys and values the layer attends over.
    func update(layer: Int, keys: Tensor, values: Tensor) throws -> (keys: Tensor, values: Tensor)
    /// How many cached keys a layer whose attention slides over the latest `window` tokens holds
    /// (before the current call's new ones): fewer than ``length`` where the cache drops the
    /// keys no later query of such a layer can see. The model's sliding-window mask covers
    /// those keys. Default: ``length`` (every key kept).
    func cachedKeyCount(window: Int) -> Int
}

extension KeyValueCache {
    public func cachedKeyCount(window: Int) -> Int { length }
}
