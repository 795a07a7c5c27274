/// Python's `json.dumps(value, ensure_ascii=..., indent=..., separators=..., sort_keys=...)`,
/// which transformers installs as the `tojson` filter of chat templates.
struct JSONDumps {
    var ensureASCII = false
    /// Spaces per level; nil writes everything on one line.
    var indent: Int?
    /// Between items and between a key and its value; Python's default is `(", ", ": ")`, or
    /// `(",", ": ")` with an indent.
    var itemSeparator: String
    var keySeparator: String
    var sortKeys = false

    init(ensureASCII: Bool = false, indent: Int? = nil, separators: (String, String)? = nil, sortKeys: Bool = false) {
        self.ensureASCII = ensureASCII
        self.indent = indent
        itemSeparator = separators?.0 ?? (indent == nil ? ", " : ",")
        keySeparator = separators?.1 ?? ": "
        self.sortKeys = sortKeys
    }

    func dumps(_ value: TemplateValue, at location: SourceLocation) throws(TemplateError) -> String {
        var out = ""
        try write(value, depth: 0, into: &out, at: location)
        return out
    }

    private func write(_ value: TemplateValue, depth: Int, into out: inout String, at location: SourceLocation) throws(TemplateError) {
        guard depth < 256 else { throw location.runtime("tojson: value nested too deeply") }
        switch value {
        case .none: out += "null"
        case let .bool(flag): out += flag ? "true" : "false"
        case let .int(number): out += String(number)
        case let .double(number):
            if number.isNaN { out += "NaN" } else if number.isInfinite { out += number < 0 ? "-Infinity" : "Infinity" } else { out += Python.floatRepr(number) }
        case let .string(string): writeString(string, into: &out)
        case let .array(values):
            if values.isEmpty { out += "[]"; return }
            out += "["
            for (index, item) in values.enumerated() {
                if index > 0 { out += itemSeparator }
                newline(depth + 1, into: &out)
                try write(item, depth: depth + 1, into: &out, at: location)
            }
            newline(depth, into: &out)
            out += "]"
        case let .dictionary(dictionary):
            if dictionary.isEmpty { out += "{}"; return }
            var keys = dictionary.keys
            if sortKeys { keys.sort { (Python.compare(TemplateDictionary.keyValue($0), TemplateDictionary.keyValue($1)) ?? 0) < 0 } }
            out += "{"
            for (index, key) in keys.enumerated() {
                if index > 0 { out += itemSeparator }
                newline(depth + 1, into: &out)
                // Python writes a non-string key as the JSON text of its value, in quotes.
                switch TemplateDictionary.keyValue(key) {
                case let .string(text): writeString(text, into: &out)
                case .none: writeString("null", into: &out)
                case let .double(number): writeString(Python.floatRepr(number), into: &out)
                case let other: writeString(Python.str(other), into: &out)
                }
                out += keySeparator
                try write(dictionary[key]!, depth: depth + 1, into: &out, at: location)
            }
            newline(depth, into: &out)
            out += "}"
        case .namespace: throw location.runtime("Object of type Namespace is not JSON serializable")
        case .callable: throw location.runtime("Object of type function is not JSON serializable")
        case .undefined: throw location.runtime("Object of type Undefined is not JSON serializable")
        }
    }

    private func newline(_ depth: Int, into out: inout String) {
        guard let indent else { return }
        out += "\n" + String(repeating: " ", count: indent * depth)
    }

    private func writeString(_ string: String, into out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || (ensureASCII && scalar.value > 0x7E) {
                    if scalar.value > 0xFFFF {
                        // Python writes a surrogate pair.
                        let v = scalar.value - 0x10000
                        out += "\\u" + Python.hex(0xD800 + (v >> 10), width: 4) + "\\u" + Python.hex(0xDC00 + (v & 0x3FF), width: 4)
                    } else {
                        out += "\\u" + Python.hex(scalar.value, width: 4)
                    }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
