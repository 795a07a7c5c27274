/// The Python methods templates call on strings, lists and dictionaries (`content.strip()`,
/// `message.items()`). Methods that mutate are refused, as jinja2's immutable sandbox does.
enum Methods {
    static let string: Set<String> = [
        "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith", "upper", "lower", "title",
        "capitalize", "replace", "find", "rfind", "count", "join", "isdigit", "isalpha", "isspace", "islower", "isupper", "format",
    ]
    static let list: Set<String> = ["index", "count"]
    static let dictionary: Set<String> = ["items", "keys", "values", "get"]
    /// Methods that would change a value: jinja2's `ImmutableSandboxedEnvironment` refuses them.
    static let mutating: Set<String> = [
        "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update", "setdefault", "popitem",
    ]

    static func call(_ name: String, on receiver: TemplateValue, _ positional: [TemplateValue], _ keyword: [(String, TemplateValue)],
                     at location: SourceLocation) throws(TemplateError) -> TemplateValue {
        var arguments = ArgumentList(positional: positional, keyword: keyword, function: name, location: location)
        switch receiver {
        case let .string(text): return try stringMethod(name, text, &arguments)
        case let .array(items):
            switch name {
            case "count":
                let needle = try arguments.required("value")
                try arguments.finish()
                return .int(items.filter { Python.equals($0, needle) }.count)
            default:
                let needle = try arguments.required("value")
                try arguments.finish()
                guard let index = items.firstIndex(where: { Python.equals($0, needle) }) else {
                    throw location.runtime("\(Python.repr(needle)) is not in list")
                }
                return .int(index)
            }
        case let .dictionary(dictionary):
            switch name {
            case "items":
                try arguments.finish()
                return .array(dictionary.items.map { .array([TemplateDictionary.keyValue($0.key), $0.value]) })
            case "keys":
                try arguments.finish()
                return .array(dictionary.keys.map(TemplateDictionary.keyValue))
            case "values":
                try arguments.finish()
                return .array(dictionary.items.map(\.value))
            default:
                let key = try arguments.required("key")
                let fallback = try arguments.optional("default") ?? .none
                try arguments.finish()
                guard let stored = TemplateDictionary.storedKey(key) else { return fallback }
                return dictionary[stored] ?? fallback
            }
        default:
            throw location.runtime("'\(receiver.typeName)' object has no method '\(name)'")
        }
    }

    private static func stringMethod(_ name: String, _ text: String, _ arguments: inout ArgumentList) throws(TemplateError) -> TemplateValue {
        let location = arguments.location
        switch name {
        case "strip", "lstrip", "rstrip":
            let characters = try arguments.optionalString("chars")
            try arguments.finish()
            return .string(Python.strip(text, characters: characters, leading: name != "rstrip", trailing: name != "lstrip"))
        case "split", "rsplit":
            let separator = try arguments.optionalString("sep")
            let limit = try arguments.optionalInt("maxsplit") ?? -1
            try arguments.finish()
            return .array(try split(text, separator: separator, limit: limit, fromEnd: name == "rsplit", at: location).map { .string($0) })
        case "splitlines":
            try arguments.finish()
            var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).map(String.init)
            if text.hasSuffix("\n") || text.hasSuffix("\r") { lines.removeLast() }
            return .array(lines.map { .string($0) })
        case "startswith", "endswith":
            let prefix = try arguments.required("prefix")
            try arguments.finish()
            let candidates: [TemplateValue]
            if case let .array(items) = prefix { candidates = items } else { candidates = [prefix] }
            for candidate in candidates {
                guard case let .string(affix) = candidate else {
                    throw location.runtime("\(name) first arg must be str or a tuple of str, not \(candidate.typeName)")
                }
                let scalars = Array(text.unicodeScalars), affixScalars = Array(affix.unicodeScalars)
                let hit = name == "startswith" ? scalars.starts(with: affixScalars) : scalars.reversed().starts(with: affixScalars.reversed())
                if hit { return .bool(true) }
            }
            return .bool(false)
        case "upper", "lower", "title", "capitalize":
            try arguments.finish()
            switch name {
            case "upper": return .string(text.uppercased())
            case "lower": return .string(text.lowercased())
            case "title": return .string(titleCase(text))
            default:
                guard let first = text.unicodeScalars.first else { return .string("") }
                return .string(String(first).uppercased() + String(text.unicodeScalars.dropFirst()).lowercased())
            }
        case "replace":
            guard case let .string(old) = try arguments.required("old"), case let .string(new) = try arguments.required("new") else {
                throw location.runtime("replace() arguments must be str")
            }
            let count = try arguments.optionalInt("count") ?? -1
            try arguments.finish()
            return .string(replace(text, old, new, count: count))
        case "find", "rfind", "count":
            guard case let .string(needle) = try arguments.required("sub") else { throw location.runtime("\(name)() argument must be str") }
            try arguments.finish()
            if name == "count" {
                var total = 0, rest = Substring(text)
                if needle.isEmpty { return .int(text.unicodeScalars.count + 1) }
                while let range = rest.range(of: needle, options: .literal) {
                    total += 1
                    rest = rest[range.upperBound...]
                }
                return .int(total)
            }
            let range = name == "find" ? text.range(of: needle, options: .literal) : text.range(of: needle, options: [.literal, .backwards])
            guard let range else { return .int(-1) }
            return .int(text.unicodeScalars.distance(from: text.unicodeScalars.startIndex, to: range.lowerBound))
        case "format":
            return .string(try format(text, positional: arguments.rest(), keyword: arguments.restKeywords(), at: location))
        case "join":
            let items = try arguments.required("iterable")
            try arguments.finish()
            let strings: [TemplateValue]
            switch items {
            case let .array(values): strings = values
            case let .string(value): strings = value.unicodeScalars.map { .string(String($0)) }
            default: throw location.runtime("can only join an iterable")
            }
            var parts: [String] = []
            for item in strings {
                guard case let .string(part) = item else { throw location.runtime("sequence item: expected str instance, \(item.typeName) found") }
                parts.append(part)
            }
            return .string(parts.joined(separator: text))
        default:
            try arguments.finish()
            let scalars = text.unicodeScalars
            let cased = scalars.filter { $0.properties.isUppercase || $0.properties.isLowercase }
            switch name {
            case "isdigit": return .bool(!scalars.isEmpty && scalars.allSatisfy { $0.properties.numericType != nil })
            case "isalpha": return .bool(!scalars.isEmpty && scalars.allSatisfy { $0.properties.isAlphabetic })
            case "isspace": return .bool(!scalars.isEmpty && scalars.allSatisfy(Python.isWhitespace))
            case "islower": return .bool(!cased.isEmpty && cased.allSatisfy { $0.properties.isLowercase })
            default: return .bool(!cased.isEmpty && cased.allSatisfy { $0.properties.isUppercase })
            }
        }
    }

    /// `str.format(*args, **kwargs)` for plain fields: `{}`, `{0}`, `{name}`, `{{`, `}}`
    /// (values printed with `str()`; format specs and conversions are not supported).
    static func format(_ text: String, positional: [TemplateValue], keyword: [(String, TemplateValue)],
                       at location: SourceLocation) throws(TemplateError) -> String {
        var out = "", field = "", inField = false, automatic = 0
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar?
        func nextScalar() -> Unicode.Scalar? {
            if let held = pending { pending = nil; return held }
            return scalars.next()
        }
        while let scalar = nextScalar() {
            if inField {
                guard scalar == "}" else { field.unicodeScalars.append(scalar); continue }
                inField = false
                guard !field.contains(":"), !field.contains("!") else { throw location.runtime("format(): format specs and conversions are not supported") }
                let value: TemplateValue?
                if field.isEmpty {
                    value = automatic < positional.count ? positional[automatic] : nil
                    automatic += 1
                } else if let index = Int(field) {
                    value = index < positional.count ? positional[index] : nil
                } else {
                    value = keyword.first { $0.0 == field }?.1
                }
                guard let value else { throw location.runtime("format(): no argument for field '{\(field)}'") }
                out += Python.str(value)
                field = ""
            } else if scalar == "{" {
                let after = nextScalar()
                if after == "{" { out += "{" } else { inField = true; pending = after }
            } else if scalar == "}" {
                let after = nextScalar()
                guard after == "}" else { throw location.runtime("format(): single '}' encountered in format string") }
                out += "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        guard !inField else { throw location.runtime("format(): expected '}' before end of string") }
        return out
    }

    /// The first occurrence of `needle` in `text` (code points compared exactly).
    static func find(_ needle: String, in text: String) -> String.Index? {
        text.range(of: needle, options: .literal)?.lowerBound
    }

    static func replace(_ text: String, _ old: String, _ new: String, count: Int) -> String {
        if old.isEmpty {
            // Python inserts `new` between every character (and at both ends).
            var out = new, done = 1
            for scalar in text.unicodeScalars {
                out.unicodeScalars.append(scalar)
                if count < 0 || done < count { out += new; done += 1 }
            }
            return out
        }
        var out = "", rest = Substring(text), done = 0
        while count < 0 || done < count, let range = rest.range(of: old, options: .literal) {
            out += rest[..<range.lowerBound] + new
            rest = rest[range.upperBound...]
            done += 1
        }
        return out + rest
    }

    /// `str.split(sep, maxsplit)` / `rsplit`: on runs of whitespace when `separator` is nil.
    static func split(_ text: String, separator: String?, limit: Int, fromEnd: Bool, at location: SourceLocation) throws(TemplateError) -> [String] {
        if let separator {
            guard !separator.isEmpty else { throw location.runtime("empty separator") }
            var parts = text.components(separatedBy: separator)
            if limit >= 0 && parts.count > limit + 1 {
                if fromEnd {
                    let head = parts[..<(parts.count - limit)].joined(separator: separator)
                    parts = [head] + parts[(parts.count - limit)...]
                } else {
                    let tail = parts[limit...].joined(separator: separator)
                    parts = Array(parts[..<limit]) + [tail]
                }
            }
            return parts
        }
        let scalars = Array(fromEnd ? Array(text.unicodeScalars.reversed()) : Array(text.unicodeScalars))
        var parts: [String] = []
        var index = 0
        while index < scalars.count {
            while index < scalars.count && Python.isWhitespace(scalars[index]) { index += 1 }
            guard index < scalars.count else { break }
            var view = String.UnicodeScalarView()
            if limit >= 0 && parts.count == limit {
                var end = scalars.count
                while end > index && Python.isWhitespace(scalars[end - 1]) { end -= 1 }
                view.append(contentsOf: scalars[index..<end])
                index = scalars.count
            } else {
                while index < scalars.count && !Python.isWhitespace(scalars[index]) {
                    view.append(scalars[index])
                    index += 1
                }
            }
            parts.append(String(view))
        }
        return fromEnd ? parts.reversed().map { String($0.unicodeScalars.reversed().map(Character.init)) } : parts
    }

    /// Python's `str.title()`: upper-case after any non-letter, lower-case after a letter.
    static func titleCase(_ text: String) -> String {
        var out = "", previousCased = false
        for scalar in text.unicodeScalars {
            let isCased = scalar.properties.isUppercase || scalar.properties.isLowercase || scalar.properties.isAlphabetic
            out += previousCased ? String(scalar).lowercased() : String(scalar).uppercased()
            previousCased = isCased
        }
        return out
    }
}

import Foundation
