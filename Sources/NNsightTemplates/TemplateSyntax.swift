/// An expression of the template language, with where it starts in the source.
struct Expression: Sendable {
    indirect enum Kind: Sendable {
        case literal(TemplateValue)
        case name(String)
        case list([Expression])
        case dictionary([(key: Expression, value: Expression)])
        /// `value.name`
        case attribute(Expression, String)
        /// `value[index]`
        case item(Expression, Expression)
        /// `value[start:stop:step]`
        case slice(Expression, start: Expression?, stop: Expression?, step: Expression?)
        case call(Expression, Arguments)
        /// `value | name(arguments)`
        case filter(Expression, name: String, Arguments)
        /// `value is [not] name(arguments)`
        case test(Expression, name: String, Arguments, negated: Bool)
        /// `-x`, `+x`, `not x`
        case unary(String, Expression)
        /// `+ - * / // % ** ~`
        case binary(String, Expression, Expression)
        case and(Expression, Expression)
        case or(Expression, Expression)
        /// `a == b`, `a < b <= c`, `a in b`, `a not in b`: a Python comparison chain.
        case compare(Expression, [(op: String, operand: Expression)])
        /// `then if condition else otherwise` (`otherwise` nil when the `else` is left out)
        case conditional(condition: Expression, then: Expression, otherwise: Expression?)
    }

    let kind: Kind
    let location: SourceLocation
}

/// Positional and keyword arguments of a call, filter or test.
struct Arguments: Sendable {
    var positional: [Expression] = []
    var keyword: [(name: String, value: Expression)] = []
}

/// A statement of the template: text, an output `{{ }}` or a block `{% %}`.
struct Node: Sendable {
    enum Kind: Sendable {
        case text(String)
        case output(Expression)
        /// `if` / `elif` branches in order, then the `else` body.
        case conditional(branches: [(condition: Expression, body: [Node])], otherwise: [Node])
        case forLoop(ForLoop)
        /// `set a = …`, `set a, b = …`
        case assign(names: [String], value: Expression)
        /// `set ns.attribute = …`
        case assignAttribute(object: String, attribute: String, value: Expression)
        /// `{% set name %}…{% endset %}`, optionally through filters.
        case assignBlock(name: String, filters: [(name: String, arguments: Arguments, location: SourceLocation)], body: [Node])
        case macro(name: String, parameters: [(name: String, defaultValue: Expression?)], body: [Node])
        /// `{% filter name %}…{% endfilter %}`
        case filterBlock(name: String, arguments: Arguments, body: [Node])
        case breakLoop, continueLoop
        /// `{% do expression %}`-like statements that render nothing (transformers' `generation` block is a body).
        case scope([Node])
    }

    let kind: Kind
    let location: SourceLocation
}

/// `{% for targets in iterable if condition %}body{% else %}otherwise{% endfor %}`.
struct ForLoop: Sendable {
    let targets: [String]
    let iterable: Expression
    let condition: Expression?
    let body: [Node]
    let otherwise: [Node]
}
