import SwiftDiagnostics
import SwiftSyntax
import SwiftSyntaxMacros

/// `@Sourced`: makes every call and binding inside a function a named operation that a trace can
/// read, replace or skip (nnsight's `.source`).
///
/// Two roles, from one analysis of the function:
/// - **body**: the function's body with each call and binding routed through its hook point
///   (``OperationRewriter``);
/// - **peer**: the function's listing, `__source_<name>` (its source text and the operations with
///   their lines), so printing `.source` needs no file at run time; on a module's `forward` also
///   `override var sourceListing`, through which the envoy tree finds it.
public struct SourcedMacro: BodyMacro, PeerMacro {
    public static func expansion(
        of node: AttributeSyntax,
        providingBodyFor declaration: some DeclSyntaxProtocol & WithOptionalCodeBlockSyntax,
        in context: some MacroExpansionContext
    ) throws -> [CodeBlockItemSyntax] {
        guard let function = declaration.as(FunctionDeclSyntax.self), let body = function.body else { return [] }
        guard let analysis = Analysis(function, at: node, report: { context.diagnose($0) }) else {
            return Array(body.statements)
        }
        guard !analysis.operations.isEmpty else { return Array(body.statements) }
        let listing = isModuleForward(function, in: context) || isTypeMember(context)
            ? "Self.__source_\(function.name.text)" : "__source_\(function.name.text)"
        let prologue: CodeBlockItemSyntax = isModuleForward(function, in: context)
            ? "let __ops = self.sourcePoints"
            : "let __ops = try SourcePoints.adopt(\(raw: listing))"
        return [prologue] + implicitReturnMadeExplicit(analysis.body.statements, of: function)
    }

    /// A body that is one expression returns it implicitly; after the prologue it no longer is one.
    static func implicitReturnMadeExplicit(_ statements: CodeBlockItemListSyntax,
                                           of function: FunctionDeclSyntax) -> [CodeBlockItemSyntax] {
        guard statements.count == 1, let only = statements.first, let expression = only.item.as(ExprSyntax.self),
              let returnType = function.signature.returnClause?.type.trimmedDescription,
              !["Void", "()", "Never"].contains(returnType)
        else { return Array(statements) }
        let returned = ReturnStmtSyntax(expression: expression.trimmed)
            .with(\.leadingTrivia, only.leadingTrivia).with(\.trailingTrivia, only.trailingTrivia)
        return [only.with(\.item, .stmt(StmtSyntax(returned)))]
    }

    public static func expansion(
        of node: AttributeSyntax,
        providingPeersOf declaration: some DeclSyntaxProtocol,
        in context: some MacroExpansionContext
    ) throws -> [DeclSyntax] {
        guard let function = declaration.as(FunctionDeclSyntax.self) else {
            context.diagnose(Diagnostic(node: node, message: SourcedDiagnostic.notAFunction))
            return []
        }
        // Diagnostics are reported once, by the body role.
        guard let analysis = Analysis(function, at: node, report: { _ in }) else { return [] }
        let name = function.name.text
        let operations = analysis.operations.map { "\(stringLiteral($0.name))" }.joined(separator: ", ")
        let lines = analysis.operations.map { String($0.line) }.joined(separator: ", ")
        let isMember = isTypeMember(context)
        let listing: DeclSyntax = """
            \(raw: isMember ? "static " : "")let __source_\(raw: name) = SourceListing(
                function: \(raw: stringLiteral(name)),
                text: \(raw: stringLiteral(analysis.text)),
                operations: [\(raw: operations)],
                lines: [\(raw: lines)]
            )
            """
        guard isModuleForward(function, in: context) else { return [listing] }
        return [listing, "public override var sourceListing: SourceListing? { Self.__source_\(raw: name) }"]
    }

    /// A module's `forward`: an overriding method named `forward` in a type.
    static func isModuleForward(_ function: FunctionDeclSyntax, in context: some MacroExpansionContext) -> Bool {
        function.name.text == "forward" && isTypeMember(context)
            && function.modifiers.contains { $0.name.tokenKind == .keyword(.override) }
    }

    static func isTypeMember(_ context: some MacroExpansionContext) -> Bool {
        guard let enclosing = context.lexicalContext.first else { return false }
        return enclosing.is(ClassDeclSyntax.self) || enclosing.is(StructDeclSyntax.self)
            || enclosing.is(EnumDeclSyntax.self) || enclosing.is(ActorDeclSyntax.self)
            || enclosing.is(ExtensionDeclSyntax.self)
    }

    /// A Swift string literal holding `text` exactly.
    static func stringLiteral(_ text: String) -> String {
        var literal = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": literal += "\\\\"
            case "\"": literal += "\\\""
            case "\n": literal += "\\n"
            case "\r": literal += "\\r"
            case "\t": literal += "\\t"
            default: literal.unicodeScalars.append(scalar)
            }
        }
        return literal + "\""
    }
}

/// The rewritten body, the operations and the function's source text, from one pass.
struct Analysis {
    let body: CodeBlockSyntax
    let operations: [Operation]
    /// The function from its first modifier or `func` to its closing brace, dedented, with a
    /// final newline (as Python's `inspect` gives it).
    let text: String

    init?(_ function: FunctionDeclSyntax, at node: AttributeSyntax, report: (Diagnostic) -> Void) {
        guard let body = function.body else {
            report(Diagnostic(node: node, message: SourcedDiagnostic.noBody))
            return nil
        }
        guard let throwsClause = function.signature.effectSpecifiers?.throwsClause, throwsClause.type == nil else {
            report(Diagnostic(node: Syntax(function.signature), message: SourcedDiagnostic.notThrowing))
            return nil
        }
        // Source text: from the first token after the attributes to the closing brace.
        let whole = Array(function.description.utf8)
        let origin = function.position.utf8Offset
        let startToken = function.modifiers.first?.firstToken(viewMode: .sourceAccurate) ?? function.funcKeyword
        let start = startToken.positionAfterSkippingLeadingTrivia.utf8Offset - origin
        let end = function.endPositionBeforeTrailingTrivia.utf8Offset - origin
        let raw = String(decoding: whole[start..<end], as: UTF8.self)
        text = Analysis.dedent(raw) + "\n"
        let newlines = whole.indices.map { whole[$0] == UInt8(ascii: "\n") ? 1 : 0 }
        var before = [Int](repeating: 0, count: whole.count + 1)
        for index in whole.indices { before[index + 1] = before[index] + newlines[index] }
        let firstLine = before[start]
        let rewriter = OperationRewriter { node in
            let offset = min(max(node.positionAfterSkippingLeadingTrivia.utf8Offset - origin, 0), whole.count)
            return before[offset] - firstLine
        }
        self.body = rewriter.rewrite(body).cast(CodeBlockSyntax.self)
        operations = rewriter.operations
    }

    /// Removes the indentation of the closing line (the function's own) from every later line.
    static func dedent(_ raw: String) -> String {
        let lines = raw.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count > 1 else { return raw }
        let indentation = lines.dropFirst().filter { !$0.allSatisfy(\.isWhitespace) }
            .map { $0.prefix(while: { $0 == " " || $0 == "\t" }).count }.min() ?? 0
        return ([String(lines[0])] + lines.dropFirst().map { line in
            let leading = line.prefix(while: { $0 == " " || $0 == "\t" }).count
            return String(line.dropFirst(min(leading, indentation)))
        }).joined(separator: "\n")
    }
}

enum SourcedDiagnostic: String, DiagnosticMessage {
    case notAFunction, noBody, notThrowing

    var message: String {
        switch self {
        case .notAFunction: "@Sourced applies to a function (a module's forward, or a function it calls)"
        case .noBody: "@Sourced needs a function with a body"
        case .notThrowing:
            "@Sourced needs a function marked 'throws' (untyped): a trace may fail any of its operations"
        }
    }

    var diagnosticID: MessageID { MessageID(domain: "NNsightSourceMacros", id: rawValue) }
    var severity: DiagnosticSeverity { .error }
}
