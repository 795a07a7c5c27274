import SwiftSyntax

/// One named operation of a marked function: its name (`self_c_attn_0`) and the line it starts
/// on, counted from the function's first line (0).
struct Operation: Equatable {
    let name: String
    let line: Int
}

/// Rewrites a function body so that every call and every binding goes through its hook point,
/// numbering them with Python nnsight's rule (``OperationNaming``) as it goes.
///
/// A call `callee(first, rest…)` becomes
/// `(try SourcePoints.call(__ops, k, callee(SourcePoints.enter(__ops, k, first), rest…)))`:
/// `call` takes the whole call as an autoclosure, so that a skipped operation never runs and
/// the evaluation order of the callee, its arguments and the call is unchanged; `enter` sees the
/// first argument once it is evaluated (the operation's `.input`). A binding `let h = value`
/// becomes `let h = (try SourcePoints.bind(__ops, k, value))`. With no trace asking for any
/// operation `__ops` is nil or inactive and each hook point is one inlined branch.
///
/// Not rewritten: closures and nested functions (their bodies run at other times), patterns,
/// macro expansions, and a call in the middle of an optional chain (`a?.f().g()`: wrapping
/// `a?.f()` would end the chain early).
final class OperationRewriter: SyntaxRewriter {
    /// The operations in numbering order; `k` in the rewritten code indexes this list.
    private(set) var operations: [Operation] = []
    private var counters: [String: Int] = [:]
    /// Computes an original node's line within the function.
    private let lineOf: (SyntaxProtocol) -> Int

    init(lineOf: @escaping (SyntaxProtocol) -> Int) {
        self.lineOf = lineOf
        super.init(viewMode: .sourceAccurate)
    }

    private func number(_ base: String, at node: SyntaxProtocol) -> Int {
        let occurrence = counters[base, default: 0]
        counters[base] = occurrence + 1
        operations.append(Operation(name: "\(base)_\(occurrence)", line: lineOf(node)))
        return operations.count - 1
    }

    // MARK: Calls

    override func visit(_ node: FunctionCallExprSyntax) -> ExprSyntax {
        let line = lineOf(node)
        if isInsideOptionalChain(node) { return super.visit(node) }
        // Children first: inner calls are numbered before this one, as in Python.
        let rewritten = super.visit(node)
        guard var call = rewritten.as(FunctionCallExprSyntax.self) else { return rewritten }
        let name = OperationNaming.callName(node.calledExpression)
        let occurrence = counters[name, default: 0]
        counters[name] = occurrence + 1
        operations.append(Operation(name: "\(name)_\(occurrence)", line: line))
        let index = operations.count - 1
        if var first = call.arguments.first, routesAsInput(first.expression) {
            first.expression = ExprSyntax("SourcePoints.enter(__ops, \(raw: index), \(first.expression.trimmed))")
                .with(\.leadingTrivia, first.expression.leadingTrivia)
                .with(\.trailingTrivia, first.expression.trailingTrivia)
            call.arguments = LabeledExprListSyntax([first] + call.arguments.dropFirst())
        }
        // Under the code's own `try` another would draw "no calls to throwing functions occur
        // within 'try'" on that one; elsewhere the hook point needs its own.
        let marker = isCoveredByTry(node) ? "" : "try "
        return ExprSyntax("(\(raw: marker)SourcePoints.call(__ops, \(raw: index), \(call.trimmed)))")
            .with(\.leadingTrivia, node.leadingTrivia)
            .with(\.trailingTrivia, node.trailingTrivia)
    }

    /// True when a `try` of the function's own code covers `node` (an enclosing `try` in the
    /// same expression statement).
    private func isCoveredByTry(_ node: some SyntaxProtocol) -> Bool {
        var current = node.parent
        while let syntax = current {
            if syntax.is(TryExprSyntax.self) { return true }
            if syntax.is(CodeBlockItemSyntax.self) || syntax.is(ClosureExprSyntax.self) || syntax.is(FunctionDeclSyntax.self)
                || syntax.is(PatternBindingSyntax.self) || syntax.is(ConditionElementSyntax.self) {
                return false
            }
            current = syntax.parent
        }
        return false
    }

    /// The first argument is the operation's input unless it is `&x` or a closure.
    private func routesAsInput(_ expression: ExprSyntax) -> Bool {
        !expression.is(InOutExprSyntax.self) && !expression.is(ClosureExprSyntax.self)
    }

    /// True for `a?.f()` followed by more of the chain (`.g()`), which must stay one chain.
    private func isInsideOptionalChain(_ node: FunctionCallExprSyntax) -> Bool {
        guard let parent = node.parent,
              parent.is(MemberAccessExprSyntax.self) || parent.is(OptionalChainingExprSyntax.self)
                || parent.is(ForceUnwrapExprSyntax.self) || parent.is(SubscriptCallExprSyntax.self)
        else { return false }
        var current: ExprSyntax? = node.calledExpression
        while let expression = current {
            if expression.is(OptionalChainingExprSyntax.self) { return true }
            if let member = expression.as(MemberAccessExprSyntax.self) { current = member.base }
            else if let call = expression.as(FunctionCallExprSyntax.self) { current = call.calledExpression }
            else if let subscriptCall = expression.as(SubscriptCallExprSyntax.self) { current = subscriptCall.calledExpression }
            else if let unwrap = expression.as(ForceUnwrapExprSyntax.self) { current = unwrap.expression }
            else { current = nil }
        }
        return false
    }

    // MARK: Bindings

    override func visit(_ node: PatternBindingSyntax) -> PatternBindingSyntax {
        guard let identifier = node.pattern.as(IdentifierPatternSyntax.self), let initializer = node.initializer,
              node.parent?.parent?.is(VariableDeclSyntax.self) == true
        else { return super.visit(node) }
        // The value runs before the name is bound: number its calls first.
        let value = visit(initializer.value)
        let index = number(identifier.identifier.text, at: node.parent?.parent ?? Syntax(node))
        return node.with(\.initializer, initializer.with(\.value, bound(value, index)))
    }

    override func visit(_ node: SequenceExprSyntax) -> ExprSyntax {
        let elements = Array(node.elements)
        guard elements.count == 3, elements[1].is(AssignmentExprSyntax.self) else { return super.visit(node) }
        let (parts, rooted) = OperationNaming.dotted(elements[0])
        // The value runs before the target (`x[f(i)] = g()` evaluates g, then f).
        let value = visit(elements[2])
        let target = visit(elements[0])
        guard rooted, !parts.isEmpty else {
            return ExprSyntax(node.with(\.elements, ExprListSyntax([target, elements[1], value])))
        }
        let index = number(parts.joined(separator: "_"), at: node)
        return ExprSyntax(node.with(\.elements, ExprListSyntax([target, elements[1], bound(value, index)])))
    }

    private func bound(_ value: ExprSyntax, _ index: Int) -> ExprSyntax {
        ExprSyntax("(try SourcePoints.bind(__ops, \(raw: index), \(value.trimmed)))")
            .with(\.trailingTrivia, value.trailingTrivia)
    }

    // MARK: Left alone

    override func visit(_ node: ClosureExprSyntax) -> ExprSyntax { ExprSyntax(node) }
    override func visit(_ node: FunctionDeclSyntax) -> DeclSyntax { DeclSyntax(node) }
    override func visit(_ node: ExpressionPatternSyntax) -> PatternSyntax { PatternSyntax(node) }
    override func visit(_ node: MacroExpansionExprSyntax) -> ExprSyntax { ExprSyntax(node) }
}
