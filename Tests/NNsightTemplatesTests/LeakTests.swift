import Foundation
import Testing
@testable import NNsightTemplates

/// A render leaves no reference cycle behind: a macro holds the scope it is defined in (which
/// holds the macro) and a namespace may hold itself. Found by `scripts/fuzz template` (LeakSanitizer).
@Suite struct LeakTests {
    @Test(arguments: [
        "{% macro m(x) %}[{{ x }}]{% endmacro %}{{ m(1) }}",
        "{% for i in [1, 2] %}{% macro m() %}{{ i }}{% endmacro %}{{ m() }}{% endfor %}",
        "{% set ns = namespace(a=1) %}{% set ns.me = ns %}{{ ns.a }}",
        "{% macro m() %}x{% endmacro %}{% set ns = namespace(f=m) %}{{ ns.f() }}",
    ])
    func renderReleasesWhatItMade(source: String) throws {
        let template = try Template(source)
        weak var released: Scope?
        var rendered = ""
        do {
            let root = Scope(parent: nil)
            released = root
            rendered = try template.render(in: root, now: Date())
        }
        #expect(!rendered.isEmpty)
        #expect(released == nil)
    }
}
