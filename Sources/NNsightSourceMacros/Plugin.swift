import SwiftCompilerPlugin
import SwiftSyntaxMacros

/// The compiler plugin that provides `@Sourced` (declared in NNsightNN).
@main
struct NNsightSourceMacrosPlugin: CompilerPlugin {
    let providingMacros: [any Macro.Type] = [SourcedMacro.self]
}
