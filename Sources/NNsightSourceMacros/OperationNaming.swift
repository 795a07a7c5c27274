import SwiftSyntax

/// Python nnsight's rule for naming the operations of a function (nnsight 0.8.1,
/// `intervention/source.py`, `Instrument`): a call is named after its callee's dotted path
/// joined with `_` (`self.c_attn(x)` → `self_c_attn`); a binding (`let h = …`, `h = …`) after
/// the bound name; each name gets a per-name counter (`self_c_attn_0`, `self_c_attn_1`), shared
/// by calls and bindings. Numbering follows execution order: a call's callee and arguments, and
/// a binding's value, are numbered before the call or binding itself (`f(f(x))` gives the inner
/// `f` `f_0`; `let h = relu(x)` gives `relu_0`, then `h_0`).
enum OperationNaming {
    /// The dotted parts of `expression` and whether the chain starts at a name.
    ///
    /// `self.a.b` → `(["self", "a", "b"], true)`; `x[i].y` → `(["x", "y"], true)` (a subscript,
    /// an optional chain or a force unwrap says where in the object, not what it is called);
    /// `(a + b).sum` → `(["sum"], false)`.
    static func dotted(_ expression: ExprSyntax) -> (parts: [String], rooted: Bool) {
        var parts: [String] = []
        var current = expression
        while true {
            if let member = current.as(MemberAccessExprSyntax.self) {
                parts.append(member.declName.baseName.text)
                guard let base = member.base else { return (parts.reversed(), false) }   // `.init(...)`
                current = base
            } else if let subscriptCall = current.as(SubscriptCallExprSyntax.self) {
                current = subscriptCall.calledExpression
            } else if let chain = current.as(OptionalChainingExprSyntax.self) {
                current = chain.expression
            } else if let unwrap = current.as(ForceUnwrapExprSyntax.self) {
                current = unwrap.expression
            } else if let reference = current.as(DeclReferenceExprSyntax.self) {
                parts.append(reference.baseName.text)
                return (parts.reversed(), true)
            } else if current.is(SuperExprSyntax.self) {
                parts.append("super")
                return (parts.reversed(), true)
            } else if let typeExpression = current.as(TypeExprSyntax.self) {
                parts.append(typeExpression.type.trimmedDescription)
                return (parts.reversed(), true)
            } else {
                return (parts.reversed(), false)
            }
        }
    }

    /// The name a call's callee gives it (Python: `"call"` when there is no name at all).
    static func callName(_ callee: ExprSyntax) -> String {
        let joined = dotted(callee).parts.joined(separator: "_")
        return joined.isEmpty ? "call" : joined
    }
}
