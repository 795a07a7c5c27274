import Foundation

/// A parsed Jinja template, rendered the way transformers renders chat templates with jinja2
/// (`ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)` plus the
/// `loopcontrols` extension, its `tojson`, `raise_exception`, `strftime_now` and `namespace`).
///
/// ```python
/// env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
/// text = env.from_string(source).render(messages=messages, add_generation_prompt=True)
/// ```
/// ```swift
/// let template = try Template(source)
/// let text = try template.render(["messages": messages, "add_generation_prompt": true])
/// ```
///
/// Covered: `{{ }}` output, `if`/`elif`/`else`, `for` (with `loop.*`, `else`, a filter
/// condition, unpacking, `break`/`continue`), `set` (also `ns.attr` and block form), `macro`,
/// `filter` blocks, transformers' `generation` block, whitespace control `{%-`/`-%}`/`{%+`,
/// comments, Python operators, slicing, string/list/dict methods, jinja2's common filters and
/// tests. Immutable and safe to share between threads.
public struct Template: Sendable {
    /// The template source as given.
    public let source: String
    let nodes: [Node]

    /// Parses `source`; throws ``TemplateError/syntax(message:line:column:)`` naming the line.
    public init(_ source: String) throws(TemplateError) {
        self.source = source
        nodes = try TemplateParser.parse(try TemplateLexer.tokenize(source))
    }

    /// Renders with `variables` as the template's globals. `now` is the time `strftime_now` formats.
    public func render(_ variables: [String: TemplateValue], now: Date = Date()) throws(TemplateError) -> String {
        try render(in: Scope(parent: nil, variables: variables), now: now)
    }

    /// Renders in `root`; when it returns, whatever the render made is released (no cycles remain).
    func render(in root: Scope, now: Date) throws(TemplateError) -> String {
        let renderer = TemplateRenderer(now: now)
        defer { renderer.arena.release() }
        var out = ""
        _ = try renderer.render(nodes, scope: root, into: &out)
        return out
    }
}
