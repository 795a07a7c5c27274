import Foundation

/// Variables visible at one point of a render: a `for` iteration or a macro call opens a new
/// scope whose assignments vanish at its end (hence `namespace()`); `if` blocks do not.
final class Scope {
    private var variables: [String: TemplateValue] = [:]
    let parent: Scope?

    init(parent: Scope?, variables: [String: TemplateValue] = [:]) {
        self.parent = parent
        self.variables = variables
    }

    func lookup(_ name: String) -> TemplateValue? {
        var scope: Scope? = self
        while let current = scope {
            if let value = current.variables[name] { return value }
            scope = current.parent
        }
        return nil
    }

    func set(_ name: String, _ value: TemplateValue) { variables[name] = value }

    func removeAll() { variables.removeAll() }
}

/// What a render made that can form reference cycles (a macro holds the scope that holds it; a
/// namespace can hold itself), emptied when the render ends so that nothing leaks.
final class RenderArena {
    private var scopes: [Scope] = []
    private var namespaces: [TemplateNamespace] = []

    func keep(_ scope: Scope) { scopes.append(scope) }
    func keep(_ namespace: TemplateNamespace) { namespaces.append(namespace) }

    func release() {
        for scope in scopes { scope.removeAll() }
        for namespace in namespaces { namespace.attributes = TemplateDictionary() }
        scopes.removeAll()
        namespaces.removeAll()
    }
}

/// Renders parsed statements into text.
struct TemplateRenderer {
    /// What `break` and `continue` ask of the loop around them.
    enum Flow { case normal, breakLoop, continueLoop }

    /// How deep evaluation may nest (expressions within statements within macro calls): deeper
    /// is a `TemplateError`, never a stack overflow, whatever thread renders.
    static let maximumDepth = 300
    /// The time `strftime_now` formats.
    let now: Date
    let depth = DepthCounter()
    let arena = RenderArena()

    init(now: Date) { self.now = now }

    /// The current nesting of `evaluate` and `render` calls, shared by every copy of a renderer.
    final class DepthCounter {
        var value = 0
    }

    /// Runs `body` one level deeper, failing past ``maximumDepth``.
    func nested<T>(at location: SourceLocation, _ body: () throws(TemplateError) -> T) throws(TemplateError) -> T {
        depth.value += 1
        defer { depth.value -= 1 }
        guard depth.value <= Self.maximumDepth else {
            throw location.runtime("template nests too deeply (more than \(Self.maximumDepth) levels of expressions, blocks and macro calls)")
        }
        return try body()
    }

    func render(_ nodes: [Node], scope: Scope, into out: inout String) throws(TemplateError) -> Flow {
        guard let first = nodes.first else { return .normal }
        return try nested(at: first.location) { () throws(TemplateError) -> Flow in
            for node in nodes {
                let flow = try execute(node, scope: scope, into: &out)
                if flow != .normal { return flow }
            }
            return .normal
        }
    }

    private func execute(_ node: Node, scope: Scope, into out: inout String) throws(TemplateError) -> Flow {
        switch node.kind {
        case let .text(text):
            out += text
        case let .output(expression):
            out += Python.str(try evaluate(expression, scope))
        case let .conditional(branches, otherwise):
            for branch in branches where try evaluate(branch.condition, scope).isTruthy {
                return try render(branch.body, scope: scope, into: &out)
            }
            return try render(otherwise, scope: scope, into: &out)
        case let .forLoop(loop):
            return try executeFor(loop, scope: scope, into: &out, location: node.location)
        case let .assign(names, value):
            let result = try evaluate(value, scope)
            if names.count == 1 {
                scope.set(names[0], result)
            } else {
                let items = try unpack(result, count: names.count, at: value.location)
                for (name, item) in zip(names, items) { scope.set(name, item) }
            }
        case let .assignAttribute(object, attribute, value):
            guard case let .namespace(namespace) = scope.lookup(object) ?? .undefined(hint: "'\(object)' is undefined") else {
                throw node.location.runtime("cannot assign attribute on non-namespace object")
            }
            namespace.attributes[attribute] = try evaluate(value, scope)
        case let .assignBlock(name, filters, body):
            var captured = ""
            _ = try render(body, scope: scope, into: &captured)
            var value = TemplateValue.string(captured)
            for filter in filters {
                value = try applyFilter(filter.name, to: value, filter.arguments, scope, at: filter.location)
            }
            scope.set(name, value)
        case let .macro(name, parameters, body):
            arena.keep(scope)
            scope.set(name, .callable(TemplateCallable(kind: .macro(Macro(name: name, parameters: parameters, body: body, scope: scope)))))
        case let .filterBlock(name, arguments, body):
            var captured = ""
            _ = try render(body, scope: scope, into: &captured)
            out += Python.str(try applyFilter(name, to: .string(captured), arguments, scope, at: node.location))
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        case let .scope(body):
            return try render(body, scope: scope, into: &out)
        }
        return .normal
    }

    private func executeFor(_ loop: ForLoop, scope: Scope, into out: inout String, location: SourceLocation) throws(TemplateError) -> Flow {
        var items = try iterate(try evaluate(loop.iterable, scope), at: loop.iterable.location)
        if let condition = loop.condition {
            var kept: [TemplateValue] = []
            for item in items {
                let probe = Scope(parent: scope)
                try bind(loop.targets, to: item, in: probe, at: location)
                if try evaluate(condition, probe).isTruthy { kept.append(item) }
            }
            items = kept
        }
        if items.isEmpty {
            _ = try render(loop.otherwise, scope: scope, into: &out)
            return .normal
        }
        for (index, item) in items.enumerated() {
            let iteration = Scope(parent: scope)
            try bind(loop.targets, to: item, in: iteration, at: location)
            var info = TemplateDictionary()
            info["index"] = .int(index + 1)
            info["index0"] = .int(index)
            info["revindex"] = .int(items.count - index)
            info["revindex0"] = .int(items.count - index - 1)
            info["first"] = .bool(index == 0)
            info["last"] = .bool(index == items.count - 1)
            info["length"] = .int(items.count)
            info["depth"] = .int(1)
            info["depth0"] = .int(0)
            info["previtem"] = index > 0 ? items[index - 1] : .undefined(hint: "there is no previous item")
            info["nextitem"] = index + 1 < items.count ? items[index + 1] : .undefined(hint: "there is no next item")
            info["cycle"] = .callable(TemplateCallable(kind: .cycle(index)))
            iteration.set("loop", .dictionary(info))
            let flow = try render(loop.body, scope: iteration, into: &out)
            if flow == .breakLoop { break }
        }
        return .normal
    }

    private func bind(_ targets: [String], to item: TemplateValue, in scope: Scope, at location: SourceLocation) throws(TemplateError) {
        if targets.count == 1 {
            scope.set(targets[0], item)
            return
        }
        for (name, value) in zip(targets, try unpack(item, count: targets.count, at: location)) { scope.set(name, value) }
    }

    private func unpack(_ value: TemplateValue, count: Int, at location: SourceLocation) throws(TemplateError) -> [TemplateValue] {
        let items = try iterate(value, at: location)
        guard items.count == count else {
            throw location.runtime(items.count > count ? "too many values to unpack (expected \(count))"
                                   : "not enough values to unpack (expected \(count), got \(items.count))")
        }
        return items
    }

    /// The items a `for` loop visits: list items, dictionary keys, string characters; nothing for undefined.
    func iterate(_ value: TemplateValue, at location: SourceLocation) throws(TemplateError) -> [TemplateValue] {
        switch value {
        case let .array(items): return items
        case let .dictionary(dictionary): return dictionary.keys.map(TemplateDictionary.keyValue)
        case let .string(string): return string.unicodeScalars.map { .string(String($0)) }
        case .undefined: return []
        case let .namespace(namespace): return namespace.attributes.keys.map { .string($0) }
        default: throw location.runtime("'\(value.typeName)' object is not iterable")
        }
    }

    /// Calls a macro with its arguments bound to its parameters.
    func callMacro(_ macro: Macro, _ positional: [TemplateValue], _ keyword: [(String, TemplateValue)], at location: SourceLocation) throws(TemplateError) -> TemplateValue {
        guard positional.count <= macro.parameters.count else {
            throw location.runtime("macro '\(macro.name)' takes not more than \(macro.parameters.count) argument(s)")
        }
        let scope = Scope(parent: macro.scope)
        var bound = Set<String>()
        for (parameter, value) in zip(macro.parameters, positional) {
            scope.set(parameter.name, value)
            bound.insert(parameter.name)
        }
        for (name, value) in keyword {
            guard macro.parameters.contains(where: { $0.name == name }) else {
                throw location.runtime("macro '\(macro.name)' takes no keyword argument '\(name)'")
            }
            scope.set(name, value)
            bound.insert(name)
        }
        for parameter in macro.parameters where !bound.contains(parameter.name) {
            if let defaultValue = parameter.defaultValue {
                scope.set(parameter.name, try evaluate(defaultValue, scope))
            } else {
                scope.set(parameter.name, .undefined(hint: "parameter '\(parameter.name)' was not provided"))
            }
        }
        var out = ""
        _ = try render(macro.body, scope: scope, into: &out)
        return .string(out)
    }
}
