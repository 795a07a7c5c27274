/// An error from parsing or rendering a Jinja template, with the place in the template it
/// comes from (1-based line and column; column 0 when only the line is known).
///
/// Python's jinja2 raises `TemplateSyntaxError` (with `lineno`) for the first case,
/// `TemplateError(message)` from `raise_exception` for the second and `UndefinedError`,
/// `TypeError` and friends for the third.
public enum TemplateError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The template text does not parse.
    case syntax(message: String, line: Int, column: Int)
    /// The template called `raise_exception(message)` (chat templates reject conversations this way).
    case raised(message: String, line: Int, column: Int)
    /// An operation failed while rendering: an undefined value used, a type mismatch, an unknown
    /// filter, test or method, a bad argument.
    case runtime(message: String, line: Int, column: Int)

    /// The message without the location.
    public var message: String {
        switch self {
        case let .syntax(message, _, _), let .raised(message, _, _), let .runtime(message, _, _): return message
        }
    }

    /// The 1-based line of the template the error comes from.
    public var line: Int {
        switch self {
        case let .syntax(_, line, _), let .raised(_, line, _), let .runtime(_, line, _): return line
        }
    }

    /// The 1-based column (0 when unknown).
    public var column: Int {
        switch self {
        case let .syntax(_, _, column), let .raised(_, _, column), let .runtime(_, _, column): return column
        }
    }

    public var description: String {
        let place = column > 0 ? "line \(line), column \(column)" : "line \(line)"
        switch self {
        case .syntax: return "template syntax error at \(place): \(message)"
        case .raised: return "template raised an exception at \(place): \(message)"
        case .runtime: return "template error at \(place): \(message)"
        }
    }
}

/// A position in the template source.
struct SourceLocation: Sendable, Equatable {
    var line: Int
    var column: Int

    static let start = SourceLocation(line: 1, column: 1)

    func syntax(_ message: String) -> TemplateError { .syntax(message: message, line: line, column: column) }
    func runtime(_ message: String) -> TemplateError { .runtime(message: message, line: line, column: column) }
}
