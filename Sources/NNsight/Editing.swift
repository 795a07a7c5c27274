import Foundation
import NNsightNN

/// The persistent interventions of a model handle: prompt-less invokes that run first, in order,
/// in every trace, generation and scan of that handle. Python: the default mediators of `edit()`.
///
/// Each model handle owns its own list (``InterleavedModel/edits`` has no shared default): an
/// in-place edit changes that handle, and handles made by `edit()` or `sharing(edits:)`, never
/// another model. A lock keeps the list whole when one thread edits while another traces.
public final class Edits {
    private let lock = NSLock()
    private var stored: [(Envoy) throws -> Void]

    /// An empty list, for a new model handle.
    public convenience init() { self.init([]) }

    init(_ bodies: [(Envoy) throws -> Void]) {
        stored = bodies
    }

    /// The edits, in order, as they are now.
    var bodies: [(Envoy) throws -> Void] { lock.withLock { stored } }

    /// How many edits apply.
    public var count: Int { lock.withLock { stored.count } }

    func append(_ body: @escaping (Envoy) throws -> Void) { lock.withLock { stored.append(body) } }
    func removeAll() { lock.withLock { stored.removeAll() } }
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
