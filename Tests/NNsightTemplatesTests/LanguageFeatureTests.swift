import Foundation
import Testing
import NNsightTemplates

/// The template language, feature by feature, against jinja2 in transformers' environment.
@Suite struct LanguageFeatureTests {
    @Test(arguments: Fixtures.featureNames)
    func rendersLikeJinja2(name: String) throws {
        let fixture = Fixtures.features.first { $0["name"].stringValue == name }!
        let template = try Template(fixture["source"].stringValue)
        let rendered = try template.render(fixture["context"].variables)
        #expect(rendered == fixture["expected"].stringValue)
    }

    @Test func jsonKeepsKeyOrderAndTypes() throws {
        let value = try TemplateValue(json: #"{"z": 1, "a": [1.5, true, null, "\u00e9\ud83d\ude00"], "m": {}}"#)
        #expect(try Template("{{ v|tojson }}").render(["v": value]) == #"{"z": 1, "a": [1.5, true, null, "é😀"], "m": {}}"#)
        #expect(throws: TemplateJSONError.self) { try TemplateValue(json: "{\"a\": }") }
    }

    @Test func macroRecursionIsBounded() throws {
        let template = try Template("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
        #expect(throws: TemplateError.self) { try template.render([:]) }
    }

    @Test func mutatingMethodsAreRefusedLikeTheSandbox() throws {
        let template = try Template("{% set xs = [1] %}{{ xs.append(2) }}")
        #expect {
            try template.render([:])
        } throws: { error in
            (error as? TemplateError)?.message == "access to attribute 'append' of 'list' object is unsafe."
        }
    }
}
