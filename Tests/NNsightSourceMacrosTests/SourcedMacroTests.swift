import NNsightSourceMacros
import SwiftSyntaxMacroExpansion
import SwiftSyntaxMacrosGenericTestSupport
import Testing

private let macros: [String: MacroSpec] = ["Sourced": MacroSpec(type: SourcedMacro.self)]

private func expect(_ original: String, expands expected: String, diagnostics: [DiagnosticSpec] = [],
                    sourceLocation: SourceLocation = #_sourceLocation) {
    assertMacroExpansion(original, expandedSource: expected, diagnostics: diagnostics, macroSpecs: macros,
                         indentationWidth: .spaces(4)) { failure in
        Issue.record(Comment(rawValue: failure.message), sourceLocation: sourceLocation)
    }
}

/// The macro's expansion, checked text for text: Python's names (callee joined with `_`, a
/// per-name counter, inner calls first, bindings after their value), the hook points, and the
/// listing with the source text and lines.
@Suite struct SourcedMacroTests {
    @Test func moduleForwardNamesCallsAndBindingsLikePython() {
        expect(
            """
            final class Block: Module {
                @Sourced
                override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
                    let h = try self.fc(input).relu()
                    return try self.fc(h)
                }
            }
            """,
            expands: """
            final class Block: Module {
                override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
                    let __ops = self.sourcePoints
                    let h = (try SourcePoints.bind(__ops, 2, try (SourcePoints.call(__ops, 1, (SourcePoints.call(__ops, 0, self.fc(SourcePoints.enter(__ops, 0, input)))).relu()))))
                    return try (SourcePoints.call(__ops, 3, self.fc(SourcePoints.enter(__ops, 3, h))))
                }

                static let __source_forward = SourceListing(
                    function: "forward",
                    text: "override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {\\n    let h = try self.fc(input).relu()\\n    return try self.fc(h)\\n}\\n",
                    operations: ["self_fc_0", "relu_0", "h_0", "self_fc_1"],
                    lines: [1, 1, 1, 2]
                )

                public override var sourceListing: SourceListing? {
                    Self.__source_forward
                }
            }
            """)
    }

    /// Also: a one-expression body gets its `return` back after the prologue; the code's own `try`
    /// covers the hook points (no second `try`, which would draw a warning).
    @Test func nestedCallsOfOneNameAreNumberedInnerFirst() {
        expect(
            """
            @Sourced
            func twice(_ x: Tensor) throws -> Tensor {
                try f(f(x))
            }
            """,
            expands: """
            func twice(_ x: Tensor) throws -> Tensor {
                let __ops = try SourcePoints.adopt(__source_twice)
                return try (SourcePoints.call(__ops, 1, f(SourcePoints.enter(__ops, 1, (SourcePoints.call(__ops, 0, f(SourcePoints.enter(__ops, 0, x))))))))
            }

            let __source_twice = SourceListing(
                function: "twice",
                text: "func twice(_ x: Tensor) throws -> Tensor {\\n    try f(f(x))\\n}\\n",
                operations: ["f_0", "f_1"],
                lines: [1, 1]
            )
            """)
    }

    /// Reassignments are operations sharing the name's counter (`y_0`, `y_1`); closures are left
    /// as written (`h($0)` is no operation); `&y` is not routed as an input; a call outside any
    /// `try` gets its own.
    @Test func assignmentsClosuresAndInoutArguments() {
        expect(
            """
            @Sourced
            func g(_ x: Tensor) throws -> Tensor {
                var y = x
                y = try F.softmax(y, dim: -1)
                let n = [1, 2].map { $0 + h($0) }
                update(&y)
                return y
            }
            """,
            expands: """
            func g(_ x: Tensor) throws -> Tensor {
                let __ops = try SourcePoints.adopt(__source_g)
                var y = (try SourcePoints.bind(__ops, 0, x))
                y = (try SourcePoints.bind(__ops, 2, try (SourcePoints.call(__ops, 1, F.softmax(SourcePoints.enter(__ops, 1, y), dim: -1)))))
                let n = (try SourcePoints.bind(__ops, 4, (try SourcePoints.call(__ops, 3, [1, 2].map {
                                    $0 + h($0)
                                }))))
                (try SourcePoints.call(__ops, 5, update(&y)))
                return y
            }

            let __source_g = SourceListing(
                function: "g",
                text: "func g(_ x: Tensor) throws -> Tensor {\\n    var y = x\\n    y = try F.softmax(y, dim: -1)\\n    let n = [1, 2].map { $0 + h($0) }\\n    update(&y)\\n    return y\\n}\\n",
                operations: ["y_0", "F_softmax_0", "y_1", "map_0", "n_0", "update_0"],
                lines: [1, 2, 2, 3, 3, 4]
            )
            """)
    }

    @Test func nonThrowingFunctionIsAnError() {
        expect(
            """
            @Sourced
            func plain(_ x: Int) -> Int {
                abs(x)
            }
            """,
            expands: """
            func plain(_ x: Int) -> Int {
                abs(x)
            }
            """,
            diagnostics: [DiagnosticSpec(
                message: "@Sourced needs a function marked 'throws' (untyped): a trace may fail any of its operations",
                line: 2, column: 11)])
    }
}
