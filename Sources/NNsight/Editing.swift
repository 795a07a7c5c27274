import NNsightNN

/// The persistent interventions of a model handle: prompt-less invokes that run first, in order,
/// in every trace, generation and scan of that handle. Python: the default mediators of `edit()`.
public final class Edits {
    private(set) var bodies: [(Envoy) throws -> Void]

    init(_ bodies: [(Envoy) throws -> Void] = []) {
        self.bodies = bodies
    }

    /// The empty list of a model that cannot be edited.
    nonisolated(unsafe) static let none = Edits()

    /// How many edits apply.
    public var count: Int { bodies.count }

    func append(_ body: @escaping (Envoy) throws -> Void) { bodies.append(body) }
    func removeAll() { bodies.removeAll() }
}

/// A model whose handles can carry edits.
public protocol EditableModel: InterleavedModel {
    /// A handle on the same modules, envoys and weights, with `edits`.
    func sharing(edits: Edits) -> Self
}

extension EditableModel {
    /// Returns a handle whose every trace first applies `body` (a prompt-less invoke over the
    /// whole batch); this handle stays clean. With `inplace: true`, this handle itself gets the
    /// edit (and is returned). Python: `with model.edit(inplace=) as edited:`.
    ///
    /// ```swift
    /// let ablated = model.edit { m in try m.transformer.h[1].mlp.output[.all] = 0 }
    /// let logits = try ablated.trace("Hello") { m in try m.lm_head.output }
    /// ```
    @discardableResult
    public func edit(inplace: Bool = false, _ body: @escaping (Envoy) throws -> Void) -> Self {
        if inplace {
            edits.append(body)
            return self
        }
        return sharing(edits: Edits(edits.bodies + [body]))
    }

    /// Removes every edit of this handle. Python: `model.clear_edits()`.
    public func clearEdits() { edits.removeAll() }
}
