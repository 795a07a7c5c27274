import Foundation

/// Evaluating expressions: names, attribute and item access, slicing, operators and calls,
/// with Python's semantics and jinja2's undefined values.
extension TemplateRenderer {
    func evaluate(_ expression: Expression, _ scope: Scope) throws(TemplateError) -> TemplateValue {
        try nested(at: expression.location) { () throws(TemplateError) -> TemplateValue in try evaluateKind(expression, scope) }
    }

    private func evaluateKind(_ expression: Expression, _ scope: Scope) throws(TemplateError) -> TemplateValue {
        let location = expression.location
        switch expression.kind {
        case let .literal(value):
            return value
        case let .name(name):
            if let value = scope.lookup(name) { return value }
            if Builtins.functions.contains(name) { return .callable(TemplateCallable(kind: .builtin(name))) }
            return .undefined(hint: "'\(name)' is undefined")
        case let .list(items):
            var values: [TemplateValue] = []
            for item in items { values.append(try evaluate(item, scope)) }
            return .array(values)
        case let .dictionary(pairs):
            var dictionary = TemplateDictionary()
            for pair in pairs {
                let keyValue = try evaluate(pair.key, scope)
                guard let key = TemplateDictionary.storedKey(keyValue) else {
                    throw pair.key.location.runtime("unhashable type: '\(keyValue.typeName)'")
                }
                dictionary[key] = try evaluate(pair.value, scope)
            }
            return .dictionary(dictionary)
        case let .attribute(base, name):
            return try attribute(try evaluate(base, scope), name, at: location)
        case let .item(base, index):
            return try item(try evaluate(base, scope), try evaluate(index, scope), at: location)
        case let .slice(base, start, stop, step):
            let value = try evaluate(base, scope)
            func bound(_ expression: Expression?) throws(TemplateError) -> Int? {
                guard let expression else { return nil }
                switch try evaluate(expression, scope) {
                case .none: return nil
                case let .int(number): return number
                case let .bool(flag): return flag ? 1 : 0
                default: throw expression.location.runtime("slice indices must be integers or None")
                }
            }
            return try slice(value, start: bound(start), stop: bound(stop), step: bound(step), at: location)
        case let .call(callee, arguments):
            let function = try evaluate(callee, scope)
            let (positional, keyword) = try evaluateArguments(arguments, scope)
            return try call(function, positional, keyword, at: location)
        case let .filter(base, name, arguments):
            return try applyFilter(name, to: try evaluate(base, scope), arguments, scope, at: location)
        case let .test(base, name, arguments, negated):
            let value = try evaluate(base, scope)
            let (positional, _) = try evaluateArguments(arguments, scope)
            let result = try applyTest(name, to: value, positional, at: location)
            return .bool(negated ? !result : result)
        case let .unary(op, operand):
            let value = try evaluate(operand, scope)
            switch op {
            case "not": return .bool(!value.isTruthy)
            case "-":
                switch value {
                case let .int(number): return .int(0 &- number)
                case let .double(number): return .double(-number)
                case let .bool(flag): return .int(flag ? -1 : 0)
                default: throw location.runtime("bad operand type for unary -: '\(value.typeName)'")
                }
            default:
                guard Python.number(value) != nil else { throw location.runtime("bad operand type for unary +: '\(value.typeName)'") }
                if case let .bool(flag) = value { return .int(flag ? 1 : 0) }
                return value
            }
        case let .binary(op, left, right):
            return try binary(op, try evaluate(left, scope), try evaluate(right, scope), at: location)
        case let .and(left, right):
            let value = try evaluate(left, scope)
            return value.isTruthy ? try evaluate(right, scope) : value
        case let .or(left, right):
            let value = try evaluate(left, scope)
            return value.isTruthy ? value : try evaluate(right, scope)
        case let .compare(first, operations):
            var left = try evaluate(first, scope)
            for operation in operations {
                let right = try evaluate(operation.operand, scope)
                guard try compare(operation.op, left, right, at: operation.operand.location) else { return .bool(false) }
                left = right
            }
            return .bool(true)
        case let .conditional(condition, then, otherwise):
            if try evaluate(condition, scope).isTruthy { return try evaluate(then, scope) }
            guard let otherwise else { return .undefined(hint: "the inline if expression evaluated to false and no else section was defined") }
            return try evaluate(otherwise, scope)
        }
    }

    func evaluateArguments(_ arguments: Arguments, _ scope: Scope) throws(TemplateError) -> ([TemplateValue], [(String, TemplateValue)]) {
        var positional: [TemplateValue] = []
        for argument in arguments.positional { positional.append(try evaluate(argument, scope)) }
        var keyword: [(String, TemplateValue)] = []
        for argument in arguments.keyword { keyword.append((argument.name, try evaluate(argument.value, scope))) }
        return (positional, keyword)
    }

    /// Fails for an undefined value used as more than a truth value or text.
    func defined(_ value: TemplateValue, at location: SourceLocation) throws(TemplateError) -> TemplateValue {
        if case let .undefined(hint) = value { throw location.runtime(hint) }
        return value
    }

    /// `value.name`: a method of the value, else (dictionaries, namespaces) the item of that name.
    func attribute(_ value: TemplateValue, _ name: String, at location: SourceLocation) throws(TemplateError) -> TemplateValue {
        switch try defined(value, at: location) {
        case .array where Methods.mutating.contains(name), .dictionary where Methods.mutating.contains(name):
            throw location.runtime("access to attribute '\(name)' of '\(value.typeName)' object is unsafe.")
        case let .dictionary(dictionary):
            if Methods.dictionary.contains(name) { return .callable(TemplateCallable(kind: .method(value, name))) }
            return dictionary[name] ?? .undefined(hint: "'dict object' has no attribute '\(name)'")
        case let .namespace(namespace):
            return namespace.attributes[name] ?? .undefined(hint: "'Namespace' object has no attribute '\(name)'")
        case .string:
            if Methods.string.contains(name) { return .callable(TemplateCallable(kind: .method(value, name))) }
        case .array:
            if Methods.list.contains(name) { return .callable(TemplateCallable(kind: .method(value, name))) }
        default:
            break
        }
        return .undefined(hint: "'\(value.typeName) object' has no attribute '\(name)'")
    }

    /// `value[index]`: the item, else (a string index) the attribute of that name.
    func item(_ value: TemplateValue, _ index: TemplateValue, at location: SourceLocation) throws(TemplateError) -> TemplateValue {
        switch (try defined(value, at: location), index) {
        case let (.dictionary(dictionary), .string(key)):
            if let found = dictionary[key] { return found }
            if Methods.dictionary.contains(key) { return .callable(TemplateCallable(kind: .method(value, key))) }
            return .undefined(hint: "'dict object' has no attribute '\(key)'")
        case let (.dictionary(dictionary), key):
            if let stored = TemplateDictionary.storedKey(key), let found = dictionary[stored] { return found }
            return .undefined(hint: "'dict object' has no attribute '\(Python.str(key))'")
        case let (.array(items), _):
            guard let position = Self.integer(index) else {
                if case let .string(name) = index { return try attribute(value, name, at: location) }
                return .undefined(hint: "'list object' has no attribute '\(Python.str(index))'")
            }
            let resolved = position < 0 ? position &+ items.count : position
            guard items.indices.contains(resolved) else { return .undefined(hint: "list object has no element \(position)") }
            return items[resolved]
        case let (.string(string), _):
            guard let position = Self.integer(index) else {
                if case let .string(name) = index { return try attribute(value, name, at: location) }
                return .undefined(hint: "'str object' has no attribute '\(Python.str(index))'")
            }
            let scalars = Array(string.unicodeScalars)
            let resolved = position < 0 ? position &+ scalars.count : position
            guard scalars.indices.contains(resolved) else { return .undefined(hint: "str object has no element \(position)") }
            return .string(String(scalars[resolved]))
        case let (_, .string(name)):
            return try attribute(value, name, at: location)
        default:
            return .undefined(hint: "'\(value.typeName) object' has no attribute '\(Python.str(index))'")
        }
    }

    /// Repetition (`'ab' * n`, `[x] * n`) may make at most ten million items.
    static func checkRepetition(_ count: Int, _ times: Int, at location: SourceLocation) throws(TemplateError) {
        let (total, overflow) = count.multipliedReportingOverflow(by: max(0, times))
        guard !overflow, total <= 10_000_000 else { throw location.runtime("repetition too large (\(count) × \(times))") }
    }

    static func integer(_ value: TemplateValue) -> Int? {
        switch value {
        case let .int(number): return number
        case let .bool(flag): return flag ? 1 : 0
        default: return nil
        }
    }

    /// Python's `value[start:stop:step]` on a list or a string.
    func slice(_ value: TemplateValue, start: Int?, stop: Int?, step: Int?, at location: SourceLocation) throws(TemplateError) -> TemplateValue {
        let step = step ?? 1
        guard step != 0 else { throw location.runtime("slice step cannot be zero") }
        func indices(_ count: Int) -> [Int] {
            func clamp(_ index: Int?, _ fallback: Int, low: Int, high: Int) -> Int {
                guard var index else { return fallback }
                if index < 0 { index += count }
                return min(max(index, low), high)
            }
            if step > 0 {
                let from = clamp(start, 0, low: 0, high: count), to = clamp(stop, count, low: 0, high: count)
                return from < to ? Array(stride(from: from, to: to, by: step)) : []
            }
            let from = clamp(start, count - 1, low: -1, high: count - 1), to = clamp(stop, -1, low: -1, high: count - 1)
            return from > to ? Array(stride(from: from, to: to, by: step)) : []
        }
        switch try defined(value, at: location) {
        case let .array(items):
            return .array(indices(items.count).map { items[$0] })
        case let .string(string):
            let scalars = Array(string.unicodeScalars)
            var view = String.UnicodeScalarView()
            for index in indices(scalars.count) { view.append(scalars[index]) }
            return .string(String(view))
        default:
            throw location.runtime("'\(value.typeName)' object is not subscriptable")
        }
    }

    func binary(_ op: String, _ left: TemplateValue, _ right: TemplateValue, at location: SourceLocation) throws(TemplateError) -> TemplateValue {
        if op == "~" { return .string(Python.str(left) + Python.str(right)) }
        let left = try defined(left, at: location), right = try defined(right, at: location)
        let failure = location.runtime("unsupported operand type(s) for \(op): '\(left.typeName)' and '\(right.typeName)'")
        switch (op, left, right) {
        case let ("+", .string(a), .string(b)): return .string(a + b)
        case let ("+", .array(a), .array(b)): return .array(a + b)
        case let ("*", .string(text), count), let ("*", count, .string(text)):
            guard let times = Self.integer(count) else { throw failure }
            try Self.checkRepetition(text.unicodeScalars.count, times, at: location)
            return .string(String(repeating: text, count: max(0, times)))
        case let ("*", .array(items), count), let ("*", count, .array(items)):
            guard let times = Self.integer(count) else { throw failure }
            try Self.checkRepetition(items.count, times, at: location)
            return .array(Array([[TemplateValue]](repeating: items, count: max(0, times)).joined()))
        default: break
        }
        if let a = Self.integer(left), let b = Self.integer(right) {
            switch op {
            case "+": return .int(a &+ b)
            case "-": return .int(a &- b)
            case "*": return .int(a &* b)
            case "/":
                guard b != 0 else { throw location.runtime("division by zero") }
                return .double(Double(a) / Double(b))
            case "//", "%":
                guard b != 0 else { throw location.runtime("integer division or modulo by zero") }
                guard !(a == Int.min && b == -1) else { return op == "//" ? .double(-Double(a)) : .int(0) }
                var quotient = a / b
                if (a % b != 0) && ((a < 0) != (b < 0)) { quotient -= 1 }
                return .int(op == "//" ? quotient : a - quotient * b)
            case "**":
                guard b >= 0 else { return .double(pow(Double(a), Double(b))) }
                // Square-and-multiply; past Int's range the result is the float Python would round it to.
                var result = 1, base = a, exponent = b
                while exponent > 0 {
                    if exponent & 1 == 1 {
                        let (product, overflow) = result.multipliedReportingOverflow(by: base)
                        if overflow { return .double(pow(Double(a), Double(b))) }
                        result = product
                    }
                    exponent >>= 1
                    if exponent > 0 {
                        let (square, overflow) = base.multipliedReportingOverflow(by: base)
                        if overflow { return .double(pow(Double(a), Double(b))) }
                        base = square
                    }
                }
                return .int(result)
            default: throw failure
            }
        }
        guard let a = Python.number(left), let b = Python.number(right) else { throw failure }
        switch op {
        case "+": return .double(a + b)
        case "-": return .double(a - b)
        case "*": return .double(a * b)
        case "/":
            guard b != 0 else { throw location.runtime("float division by zero") }
            return .double(a / b)
        case "//":
            guard b != 0 else { throw location.runtime("float divmod()") }
            return .double((a / b).rounded(.down))
        case "%":
            guard b != 0 else { throw location.runtime("float modulo") }
            let remainder = a.truncatingRemainder(dividingBy: b)
            return .double(remainder != 0 && (remainder < 0) != (b < 0) ? remainder + b : remainder)
        case "**": return .double(pow(a, b))
        default: throw failure
        }
    }

    func compare(_ op: String, _ left: TemplateValue, _ right: TemplateValue, at location: SourceLocation) throws(TemplateError) -> Bool {
        switch op {
        case "==": return Python.equals(left, right)
        case "!=": return !Python.equals(left, right)
        case "in", "not in":
            let found: Bool
            switch right {
            case .undefined: found = false
            case let .string(text):
                guard case let .string(needle) = left else {
                    throw location.runtime("'in <string>' requires string as left operand, not \(left.typeName)")
                }
                found = needle.isEmpty || Methods.find(needle, in: text) != nil
            case let .array(items): found = items.contains { Python.equals($0, left) }
            case let .dictionary(dictionary):
                found = TemplateDictionary.storedKey(left).map { dictionary[$0] != nil } ?? false
            case let .namespace(namespace):
                if case let .string(key) = left { found = namespace.attributes[key] != nil } else { found = false }
            default:
                throw location.runtime("argument of type '\(right.typeName)' is not iterable")
            }
            return op == "in" ? found : !found
        default:
            guard let order = Python.compare(try defined(left, at: location), try defined(right, at: location)) else {
                throw location.runtime("'\(op)' not supported between instances of '\(left.typeName)' and '\(right.typeName)'")
            }
            switch op {
            case "<": return order < 0
            case "<=": return order <= 0
            case ">": return order > 0
            default: return order >= 0
            }
        }
    }

    /// Calls a macro, a global function or a method.
    func call(_ function: TemplateValue, _ positional: [TemplateValue], _ keyword: [(String, TemplateValue)], at location: SourceLocation) throws(TemplateError) -> TemplateValue {
        guard case let .callable(callable) = try defined(function, at: location) else {
            throw location.runtime("'\(function.typeName)' object is not callable")
        }
        switch callable.kind {
        case let .macro(macro): return try callMacro(macro, positional, keyword, at: location)
        case let .builtin(name): return try Builtins.call(name, positional, keyword, renderer: self, at: location)
        case let .method(receiver, name): return try Methods.call(name, on: receiver, positional, keyword, at: location)
        case let .cycle(index):
            guard !positional.isEmpty else { throw location.runtime("no items for cycling given") }
            return positional[index % positional.count]
        }
    }
}
