/// jinja2's tests (`value is defined`, `value is string`, `n is divisibleby 3`, …).
extension TemplateRenderer {
    func applyTest(_ name: String, to value: TemplateValue, _ positional: [TemplateValue], at location: SourceLocation) throws(TemplateError) -> Bool {
        func argument() throws(TemplateError) -> TemplateValue {
            guard positional.count == 1 else { throw location.runtime("test '\(name)' takes one argument") }
            return positional[0]
        }
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": if case .none = value { return true } else { return false }
        case "string": if case .string = value { return true } else { return false }
        case "boolean": if case .bool = value { return true } else { return false }
        case "true": if case .bool(true) = value { return true } else { return false }
        case "false": if case .bool(false) = value { return true } else { return false }
        case "integer": if case .int = value { return true } else { return false }
        case "float": if case .double = value { return true } else { return false }
        case "number":
            switch value {
            case .int, .double, .bool: return true
            default: return false
            }
        case "mapping": if case .dictionary = value { return true } else { return false }
        case "iterable":
            switch value {
            case .string, .array, .dictionary, .undefined: return true
            default: return false
            }
        case "sequence":
            switch value {
            case .string, .array, .dictionary: return true
            default: return false
            }
        case "callable": if case .callable = value { return true } else { return false }
        case "even", "odd":
            guard let number = TemplateRenderer.integer(try defined(value, at: location)) else { throw location.runtime("test '\(name)' needs an integer") }
            return (number % 2 == 0) == (name == "even")
        case "divisibleby":
            guard let number = TemplateRenderer.integer(value), let divisor = TemplateRenderer.integer(try argument()), divisor != 0 else {
                throw location.runtime("test 'divisibleby' needs integers")
            }
            return number % divisor == 0
        case "eq", "equalto", "==": return try compare("==", value, argument(), at: location)
        case "ne", "!=": return try compare("!=", value, argument(), at: location)
        case "lt", "lessthan", "<": return try compare("<", value, argument(), at: location)
        case "le", "<=": return try compare("<=", value, argument(), at: location)
        case "gt", "greaterthan", ">": return try compare(">", value, argument(), at: location)
        case "ge", ">=": return try compare(">=", value, argument(), at: location)
        case "in": return try compare("in", value, argument(), at: location)
        case "sameas":
            let other = try argument()
            switch (value, other) {
            case (.none, .none): return true
            case let (.bool(a), .bool(b)): return a == b
            case let (.namespace(a), .namespace(b)): return a === b
            default: return false
            }
        case "lower", "upper":
            guard case let .string(text) = value else { return false }
            return name == "lower" ? text == text.lowercased() : text == text.uppercased()
        case "escaped": return false
        default: throw location.runtime("No test named '\(name)'.")
        }
    }
}
