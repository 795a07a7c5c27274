import NNsightTorch

/// The named arguments that travel with a module call besides its main input tensor: attention
/// masks, position ids, a KV cache. Python: the `**kwargs` of `forward`.
///
/// Typed keys keep the lookups checked: `context[.attentionMask]` is a `Tensor?`. Models declare
/// their keys as static members of `ForwardContext.Key`.
public final class ForwardContext: @unchecked Sendable {
    /// A typed key. `name` is what printing and nnsight's `.inputs` show (the Python kwarg name).
    public struct Key<Value>: Hashable, Sendable {
        public let name: String
        public init(_ name: String) { self.name = name }
    }

    private var values: [String: Any] = [:]

    public init() {}

    public subscript<Value>(key: Key<Value>) -> Value? {
        get { values[key.name] as? Value }
        set { values[key.name] = newValue }
    }

    /// The names of the values present, sorted.
    public var names: [String] { values.keys.sorted() }

    /// A shallow copy: the same values under the same names.
    public func copy() -> ForwardContext {
        let copy = ForwardContext()
        copy.values = values
        return copy
    }
}
