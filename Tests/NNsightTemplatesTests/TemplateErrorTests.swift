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
