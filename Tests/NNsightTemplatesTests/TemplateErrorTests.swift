import Foundation
import Testing
import NNsightTemplates

/// A broken template or a rejected conversation is a typed `TemplateError` with the template's
/// line; the lines match those jinja2 reports.
@Suite struct TemplateErrorTests {
    @Test(arguments: Fixtures.errorNames)
    func failsLikeJinja2(name: String) throws {
        let fixture = Fixtures.errors.first { $0["name"].stringValue == name }!
        let source = fixture["source"].stringValue
        switch fixture["kind"].stringValue {
        case "syntax":
            #expect {
                _ = try Template(source)
            } throws: { error in
                guard case let .syntax(_, line, _) = error as? TemplateError else { return false }
                return line == fixture["line"].intValue
            }
        default:
            let template = try Template(source)
            #expect {
                try template.render(fixture["context"].variables)
            } throws: { error in
                guard case let .raised(message, _, _) = error as? TemplateError else { return false }
                return message == fixture["message"].stringValue
            }
        }
    }

    @Test func raiseExceptionNamesItsLineAndColumn() throws {
        let template = try Template("one\ntwo {{ raise_exception('nope') }}")
        #expect(throws: TemplateError.raised(message: "nope", line: 2, column: 8)) { try template.render([:]) }
    }

    @Test func runtimeErrorsNameTheLine() throws {
        let template = try Template("{% for m in messages %}\n{{ m.content + 1 }}\n{% endfor %}")
        #expect {
            try template.render(["messages": [["content": "hi"]]])
        } throws: { error in
            guard case let .runtime(message, line, _) = error as? TemplateError else { return false }
            return line == 2 && message.contains("unsupported operand")
        }
        #expect {
            try Template("{{ missing.attribute }}").render([:])
        } throws: { error in
            (error as? TemplateError)?.message == "'missing' is undefined"
        }
    }
}

/// Hostile templates (a GGUF's metadata is untrusted) end in a `TemplateError`, never a crash,
/// a stack overflow or an unbounded allocation.
@Suite struct HostileTemplateTests {
    @Test func deepNestingIsASyntaxError() throws {
        let parentheses = String(repeating: "(", count: 5_000) + "1" + String(repeating: ")", count: 5_000)
        #expect(throws: TemplateError.self) { try Template("{{ \(parentheses) }}") }
        let blocks = String(repeating: "{% if true %}", count: 5_000) + String(repeating: "{% endif %}", count: 5_000)
        #expect(throws: TemplateError.self) { try Template(blocks) }
        #expect(throws: TemplateError.self) { try Template("{{ " + String(repeating: "not ", count: 5_000) + "x }}") }
    }

    @Test func longChainsAndRecursionAreBounded() throws {
        let chain = try Template("{{ " + Array(repeating: "1", count: 5_000).joined(separator: " + ") + " }}")
        #expect(throws: TemplateError.self) { try chain.render([:]) }
        let recursion = try Template("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
        #expect(throws: TemplateError.self) { try recursion.render([:]) }
        // Chains of the size real templates use render.
        let fine = try Template("{{ " + Array(repeating: "'a'", count: 40).joined(separator: " + ") + " }}")
        #expect(try fine.render([:]) == String(repeating: "a", count: 40))
    }

    /// Python's integers are unbounded and ours are 64-bit: past that range the values differ
    /// (documented in the README), but nothing traps.
    @Test func arithmeticEdgesDoNotTrap() throws {
        for source in ["{{ -(-9223372036854775807 - 1) }}", "{{ 2 ** 64 }}", "{{ 1e300|int }}", "{{ (-9223372036854775807 - 1) // -1 }}",
                       "{{ (-9223372036854775807 - 1)|abs }}", "{{ [1, 2][-9223372036854775807] }}", "{{ 3 ** 1000000000000 }}"] {
            #expect(throws: Never.self, "\(source)") { _ = try Template(source).render([:]) }
        }
        #expect(throws: TemplateError.self) { try Template("{{ 'ab' * 100000000000 }}").render([:]) }
        #expect(throws: TemplateError.self) { try Template("{{ range(1000000000000)|length }}").render([:]) }
        #expect(throws: TemplateError.self) { try Template("{{ 1 // 0 }}").render([:]) }
    }
}
