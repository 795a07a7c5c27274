import Foundation

/// jinja2's built-in filters that chat templates use, with transformers' `tojson`
/// (`json.dumps` with `ensure_ascii=False`, no HTML escaping).
extension TemplateRenderer {
    func applyFilter(_ name: String, to value: TemplateValue, _ arguments: Arguments, _ scope: Scope,
                     at location: SourceLocation) throws(TemplateError) -> TemplateValue {
        let (positional, keyword) = try evaluateArguments(arguments, scope)
        var arguments = ArgumentList(positional: positional, keyword: keyword, function: name, location: location)
        let result = try filter(name, value, &arguments, at: location)
        try arguments.finish()
        return result
    }

    private func filter(_ name: String, _ value: TemplateValue, _ arguments: inout ArgumentList,
                        at location: SourceLocation) throws(TemplateError) -> TemplateValue {
        switch name {
        case "trim":
            return .string(Python.strip(Python.str(value), characters: try arguments.optionalString("chars"), leading: true, trailing: true))
        case "tojson":
            let ensureASCII = try arguments.optionalBool("ensure_ascii") ?? false
            let indent = try arguments.optionalInt("indent").map { min(max($0, 0), 64) }
            var separators: (String, String)?
            if let given = try arguments.optional("separators"), case .array(let pair) = given, pair.count == 2,
               case let .string(item) = pair[0], case let .string(key) = pair[1] {
                separators = (item, key)
            }
            let sortKeys = try arguments.optionalBool("sort_keys") ?? false
            return .string(try JSONDumps(ensureASCII: ensureASCII, indent: indent, separators: separators, sortKeys: sortKeys)
                .dumps(value, at: location))
        case "length", "count":
            switch value {
            case let .string(text): return .int(text.unicodeScalars.count)
            case let .array(items): return .int(items.count)
            case let .dictionary(dictionary): return .int(dictionary.count)
            case .undefined: return .int(0)
            case let .namespace(namespace): return .int(namespace.attributes.count)
            default: throw location.runtime("object of type '\(value.typeName)' has no len()")
            }
        case "default", "d":
            let fallback = try arguments.optional("default_value") ?? .string("")
            let boolean = try arguments.optionalBool("boolean") ?? false
            return value.isUndefined || (boolean && !value.isTruthy) ? fallback : value
        case "string":
            return .string(Python.str(value))
        case "int":
            let fallback = try arguments.optional("default") ?? .int(0)
            switch value {
            case let .int(number): return .int(number)
            case let .bool(flag): return .int(flag ? 1 : 0)
            case let .double(number): return Int(exactly: number.rounded(.towardZero)).map { .int($0) } ?? fallback
            case let .string(text):
                let trimmed = Python.strip(text, characters: nil, leading: true, trailing: true)
                if let number = Int(trimmed) { return .int(number) }
                if let number = Double(trimmed), let integer = Int(exactly: number.rounded(.towardZero)) { return .int(integer) }
                return fallback
            default: return fallback
            }
        case "float":
            let fallback = try arguments.optional("default") ?? .double(0)
            if let number = Python.number(value) { return .double(number) }
            if case let .string(text) = value, let number = Double(Python.strip(text, characters: nil, leading: true, trailing: true)) {
                return .double(number)
            }
            return fallback
        case "lower": return .string(Python.str(value).lowercased())
        case "upper": return .string(Python.str(value).uppercased())
        case "capitalize":
            let text = Python.str(value)
            guard let first = text.unicodeScalars.first else { return .string("") }
            return .string(String(first).uppercased() + String(text.unicodeScalars.dropFirst()).lowercased())
        case "title": return .string(jinjaTitle(Python.str(value)))
        case "join":
            let separator = try arguments.optionalString("d") ?? ""
            let attributeName = try arguments.optional("attribute")
            var items = try iterate(value, at: location)
            if let attributeName { items = try items.map { (item) throws(TemplateError) in try self.item(item, attributeName, at: location) } }
            return .string(items.map(Python.str).joined(separator: separator))
        case "list":
            return .array(try iterate(value, at: location))
        case "first", "last":
            let items = try iterate(value, at: location)
            return (name == "first" ? items.first : items.last) ?? .undefined(hint: "No \(name) item, sequence was empty.")
        case "reverse":
            if case let .string(text) = value { return .string(String(String.UnicodeScalarView(text.unicodeScalars.reversed()))) }
            return .array(try iterate(value, at: location).reversed())
        case "sort":
            let reverse = try arguments.optionalBool("reverse") ?? false
            let caseSensitive = try arguments.optionalBool("case_sensitive") ?? false
            let attributeName = try arguments.optional("attribute")
            let items = try iterate(value, at: location)
            var keys: [TemplateValue] = []
            for item in items {
                var key = try attributeName.map { (name) throws(TemplateError) in try self.item(item, name, at: location) } ?? item
                if !caseSensitive, case let .string(text) = key { key = .string(text.lowercased()) }
                keys.append(key)
            }
            var order = Array(items.indices)
            var failed = false
            order.sort { a, b in
                guard let result = Python.compare(keys[a], keys[b]) else { failed = true; return false }
                return reverse ? result > 0 : result < 0
            }
            if failed { throw location.runtime("'<' not supported between these items") }
            return .array(order.map { items[$0] })
        case "unique":
            var seen: [TemplateValue] = []
            for item in try iterate(value, at: location) where !seen.contains(where: { Python.equals($0, item) }) { seen.append(item) }
            return .array(seen)
        case "map":
            // jinja2's map, select and friends treat a false sequence (`none`) as empty.
            let items = value.isTruthy ? try iterate(value, at: location) : []
            if let attributeName = arguments.keywordOnly("attribute") {
                let fallback = arguments.keywordOnly("default")
                return .array(try items.map { (item) throws(TemplateError) in
                    let found = try self.item(item, attributeName, at: location)
                    return found.isUndefined ? (fallback ?? found) : found
                })
            }
            guard case let .string(filterName) = try arguments.required("filter") else { throw location.runtime("map() needs a filter name") }
            let extra = arguments.rest(), extraKeywords = arguments.restKeywords()
            return .array(try items.map { (item) throws(TemplateError) in
                var inner = ArgumentList(positional: extra, keyword: extraKeywords, function: filterName, location: location)
                let result = try self.filter(filterName, item, &inner, at: location)
                try inner.finish()
                return result
            })
        case "select", "reject", "selectattr", "rejectattr":
            let byAttribute = name.hasSuffix("attr")
            let attributeName: TemplateValue? = byAttribute ? try arguments.required("attribute") : nil
            let testName = try arguments.optionalString("test")
            let testArguments = arguments.rest()
            let keep = name.hasPrefix("select")
            var kept: [TemplateValue] = []
            for item in value.isTruthy ? try iterate(value, at: location) : [] {
                let subject = try attributeName.map { (name) throws(TemplateError) in try self.item(item, name, at: location) } ?? item
                let passed = try testName.map { (test) throws(TemplateError) in try self.applyTest(test, to: subject, testArguments, at: location) }
                    ?? subject.isTruthy
                if passed == keep { kept.append(item) }
            }
            return .array(kept)
        case "replace":
            guard case let .string(old) = try arguments.required("old"), case let .string(new) = try arguments.required("new") else {
                throw location.runtime("replace() arguments must be strings")
            }
            return .string(Methods.replace(Python.str(value), old, new, count: try arguments.optionalInt("count") ?? -1))
        case "safe":
            return value
        case "e", "escape", "forceescape":
            var out = ""
            for character in Python.str(value) {
                switch character {
                case "&": out += "&amp;"
                case "<": out += "&lt;"
                case ">": out += "&gt;"
                case "\"": out += "&#34;"
                case "'": out += "&#39;"
                default: out.append(character)
                }
            }
            return .string(out)
        case "indent":
            let width = try arguments.optional("width") ?? .int(4)
            let indentFirst = try arguments.optionalBool("first") ?? false
            let indentBlank = try arguments.optionalBool("blank") ?? false
            let padding: String
            if case let .string(text) = width { padding = text } else { padding = String(repeating: " ", count: min(max(TemplateRenderer.integer(width) ?? 4, 0), 1024)) }
            var lines = Python.str(value).components(separatedBy: "\n")
            for index in lines.indices where (index > 0 || indentFirst) && (indentBlank || !lines[index].allSatisfy({ $0.unicodeScalars.allSatisfy(Python.isWhitespace) })) {
                lines[index] = padding + lines[index]
            }
            return .string(lines.joined(separator: "\n"))
        case "items":
            if value.isUndefined { return .array([]) }
            guard case let .dictionary(dictionary) = value else { throw location.runtime("items filter needs a mapping") }
            return .array(dictionary.items.map { .array([TemplateDictionary.keyValue($0.key), $0.value]) })
        case "dictsort":
            guard case let .dictionary(dictionary) = value else { throw location.runtime("dictsort filter needs a mapping") }
            let caseSensitive = try arguments.optionalBool("case_sensitive") ?? false
            let by = try arguments.optionalString("by") ?? "key"
            let reverse = try arguments.optionalBool("reverse") ?? false
            var pairs = dictionary.items
            func key(_ pair: (key: String, value: TemplateValue)) -> TemplateValue {
                let raw = by == "value" ? pair.value : TemplateDictionary.keyValue(pair.key)
                if !caseSensitive, case let .string(text) = raw { return .string(text.lowercased()) }
                return raw
            }
            pairs.sort { (Python.compare(key($0), key($1)) ?? 0) * (reverse ? -1 : 1) < 0 }
            return .array(pairs.map { .array([TemplateDictionary.keyValue($0.key), $0.value]) })
        case "abs":
            switch value {
            case let .int(number): return number == Int.min ? .double(-Double(number)) : .int(abs(number))
            case let .double(number): return .double(abs(number))
            default: throw location.runtime("bad operand type for abs(): '\(value.typeName)'")
            }
        case "round":
            let precision = try arguments.optionalInt("precision") ?? 0
            let method = try arguments.optionalString("method") ?? "common"
            guard let number = Python.number(value) else { throw location.runtime("round filter needs a number") }
            let scale = pow(10, Double(min(max(precision, -308), 308)))
            let rule: FloatingPointRoundingRule = method == "ceil" ? .up : (method == "floor" ? .down : .toNearestOrEven)
            return .double((number * scale).rounded(rule) / scale)
        case "sum":
            let attributeName = try arguments.optional("attribute")
            var total = try arguments.optional("start") ?? .int(0)
            for item in try iterate(value, at: location) {
                let term = try attributeName.map { (name) throws(TemplateError) in try self.item(item, name, at: location) } ?? item
                total = try binary("+", total, term, at: location)
            }
            return total
        case "min", "max":
            let items = try iterate(value, at: location)
            guard var best = items.first else { return .undefined(hint: "No \(name) item, sequence was empty.") }
            for item in items.dropFirst() {
                guard let order = Python.compare(item, best) else { throw location.runtime("cannot compare items for \(name)") }
                if name == "min" ? order < 0 : order > 0 { best = item }
            }
            return best
        case "wordcount":
            return .int(Python.str(value).split(whereSeparator: { $0.unicodeScalars.allSatisfy(Python.isWhitespace) }).count)
        case "attr":
            guard case let .string(attributeName) = try arguments.required("name") else { throw location.runtime("attr() needs a name") }
            return try attribute(value, attributeName, at: location)
        default:
            throw location.runtime("No filter named '\(name)'.")
        }
    }

    /// jinja2's `title` filter: each word (split at whitespace, `-`, and opening brackets)
    /// gets an upper-case first letter and lower-case rest.
    private func jinjaTitle(_ text: String) -> String {
        var out = "", atWordStart = true
        for scalar in text.unicodeScalars {
            let isSeparator = Python.isWhitespace(scalar) || "-({[<".unicodeScalars.contains(scalar)
            if isSeparator {
                out.unicodeScalars.append(scalar)
                atWordStart = true
            } else {
                out += atWordStart ? String(scalar).uppercased() : String(scalar).lowercased()
                atWordStart = false
            }
        }
        return out
    }
}
