/// How Python prints, compares and strips values: jinja2 renders with Python's `str()`, so a
/// byte-identical output needs Python's formatting of floats, lists and dictionaries.
enum Python {
    /// `str(value)`; undefined prints as nothing.
    static func str(_ value: TemplateValue) -> String {
        switch value {
        case let .string(string): return string
        case .undefined: return ""
        default: return repr(value)
        }
    }

    /// `repr(value)`.
    static func repr(_ value: TemplateValue) -> String {
        switch value {
        case .none: return "None"
        case .undefined: return ""
        case let .bool(flag): return flag ? "True" : "False"
        case let .int(number): return String(number)
        case let .double(number): return floatRepr(number)
        case let .string(string): return stringRepr(string)
        case let .array(values): return "[" + values.map(repr).joined(separator: ", ") + "]"
        case let .dictionary(dictionary):
            return "{" + dictionary.items.map { repr(TemplateDictionary.keyValue($0.key)) + ": " + repr($0.value) }.joined(separator: ", ") + "}"
        case let .namespace(namespace): return "<Namespace " + repr(.dictionary(namespace.attributes)) + ">"
        case let .callable(callable):
            switch callable.kind {
            case let .macro(macro): return "<Macro '\(macro.name)'>"
            case let .builtin(name): return "<function \(name)>"
            case let .method(_, name): return "<built-in method \(name)>"
            case .cycle: return "<built-in method cycle>"
            }
        }
    }

    /// Python's quoting of a string: single quotes unless the text has one and no double quote.
    static func stringRepr(_ string: String) -> String {
        let quote: Unicode.Scalar = string.contains("'") && !string.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case quote: out += "\\" + String(quote)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\x" + hex(scalar.value, width: 2)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.unicodeScalars.append(quote)
        return out
    }

    static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// `repr(float)`: the shortest digits that round-trip, fixed notation for exponents in
    /// -4..<16, scientific (`1e-05`, `1.5e+16`) outside.
    static func floatRepr(_ number: Double) -> String {
        if number.isNaN { return "nan" }
        if number.isInfinite { return number < 0 ? "-inf" : "inf" }
        if number == 0 { return number.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description has the same shortest round-trip digits; only the layout differs.
        var text = "\(number.magnitude)"
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...])!
            text = String(text[..<e])
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let integerPart = String(parts[0]), fractionPart = parts.count > 1 ? String(parts[1]) : ""
        var digits = integerPart + fractionPart
        var pointPosition = integerPart.count + exponent  // digits before the decimal point
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        let scientificExponent = pointPosition - 1
        let sign = number < 0 ? "-" : ""
        if scientificExponent >= -4 && scientificExponent < 16 {
            if pointPosition <= 0 {
                return sign + "0." + String(repeating: "0", count: -pointPosition) + digits
            }
            if pointPosition >= digits.count {
                return sign + digits + String(repeating: "0", count: pointPosition - digits.count) + ".0"
            }
            let split = digits.index(digits.startIndex, offsetBy: pointPosition)
            return sign + digits[..<split] + "." + digits[split...]
        }
        let mantissa = digits.count == 1 ? digits : String(digits.first!) + "." + digits.dropFirst()
        let magnitude = abs(scientificExponent)
        return sign + mantissa + "e" + (scientificExponent < 0 ? "-" : "+") + (magnitude < 10 ? "0" : "") + String(magnitude)
    }

    /// Python's `str.isspace()` for one code point.
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// `str.strip(chars)`, `lstrip`, `rstrip`: whitespace when `characters` is nil.
    static func strip(_ string: String, characters: String?, leading: Bool, trailing: Bool) -> String {
        let scalars = Array(string.unicodeScalars)
        let set = characters.map { Set($0.unicodeScalars) }
        let remove: (Unicode.Scalar) -> Bool = { scalar in set.map { $0.contains(scalar) } ?? isWhitespace(scalar) }
        var start = 0, end = scalars.count
        if leading { while start < end && remove(scalars[start]) { start += 1 } }
        if trailing { while end > start && remove(scalars[end - 1]) { end -= 1 } }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[start..<end])
        return String(view)
    }

    /// `a == b` as Python compares: by value, `1 == 1.0 == True`, strings by code point.
    static func equals(_ a: TemplateValue, _ b: TemplateValue) -> Bool {
        switch (a, b) {
        case (.none, .none), (.undefined, .undefined): return true
        case let (.string(x), .string(y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
        case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy { equals($0, $1) }
        case let (.dictionary(x), .dictionary(y)):
            return x.count == y.count && x.items.allSatisfy { item in y[item.key].map { equals(item.value, $0) } ?? false }
        case let (.namespace(x), .namespace(y)): return x === y
        default:
            if let x = number(a), let y = number(b) { return x == y }
            return false
        }
    }

    /// The numeric value of a bool, int or float.
    static func number(_ value: TemplateValue) -> Double? {
        switch value {
        case let .bool(flag): return flag ? 1 : 0
        case let .int(number): return Double(number)
        case let .double(number): return number
        default: return nil
        }
    }

    /// `a < b` (negative), `a == b` (zero), `a > b` (positive) for numbers, strings and lists;
    /// nil where Python raises `TypeError`.
    static func compare(_ a: TemplateValue, _ b: TemplateValue) -> Int? {
        switch (a, b) {
        case let (.string(x), .string(y)):
            if x.unicodeScalars.elementsEqual(y.unicodeScalars) { return 0 }
            return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars, by: { $0.value < $1.value }) ? -1 : 1
        case let (.array(x), .array(y)):
            for (left, right) in zip(x, y) where !equals(left, right) { return compare(left, right) }
            return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
        default:
            if case let .int(x) = a, case let .int(y) = b { return x == y ? 0 : (x < y ? -1 : 1) }
            guard let x = number(a), let y = number(b) else { return nil }
            return x == y ? 0 : (x < y ? -1 : 1)
        }
    }
}
