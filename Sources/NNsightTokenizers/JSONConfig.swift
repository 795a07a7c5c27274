/// A read-only view of one node of a parsed `tokenizer.json` that knows its own path, so that
/// every error names where it happened (`pre_tokenizer.pretokenizers[1].pattern`).
struct JSONConfig {
    let value: JSONValue
    let path: String

    init(_ value: JSONValue, path: String) {
        self.value = value
        self.path = path
    }

    static func parse(_ bytes: [UInt8]) throws(TokenizerError) -> JSONConfig {
        JSONConfig(try JSONValue.parse(bytes), path: "$")
    }

    func malformed(_ reason: String) -> TokenizerError { .malformed(path: path, reason: reason) }

    /// The child at `key`, or nil when absent or JSON null.
    subscript(key: String) -> JSONConfig? {
        guard case let .object(object) = value, let child = object[key] else { return nil }
        if case .null = child { return nil }
        return JSONConfig(child, path: path + "." + key)
    }

    func required(_ key: String) throws(TokenizerError) -> JSONConfig {
        guard case .object = value else { throw malformed("expected an object") }
        guard let child = self[key] else { throw .malformed(path: path + "." + key, reason: "missing field") }
        return child
    }

    func asObject() throws(TokenizerError) -> [String: JSONValue] {
        guard case let .object(object) = value else { throw malformed("expected an object") }
        return object
    }

    func asArray() throws(TokenizerError) -> [JSONConfig] {
        guard case let .array(array) = value else { throw malformed("expected an array") }
        return array.enumerated().map { JSONConfig($0.element, path: "\(path)[\($0.offset)]") }
    }

    func asString() throws(TokenizerError) -> String {
        guard case let .string(string) = value else { throw malformed("expected a string") }
        return string
    }

    func asInt() throws(TokenizerError) -> Int {
        guard case let .number(number) = value, number == number.rounded(), abs(number) < 9e15 else {
            throw malformed("expected an integer")
        }
        return Int(number)
    }

    func asDouble() throws(TokenizerError) -> Double {
        guard case let .number(number) = value else { throw malformed("expected a number") }
        return number
    }

    func asBool() throws(TokenizerError) -> Bool {
        guard case let .bool(bool) = value else { throw malformed("expected a boolean") }
        return bool
    }

    /// The `type` field of a component.
    func type(component: String) throws(TokenizerError) -> String {
        guard let type = self["type"] else { throw malformed("\(component) has no \"type\"") }
        return try type.asString()
    }

    func string(_ key: String, default fallback: String) throws(TokenizerError) -> String {
        try self[key]?.asString() ?? fallback
    }
    func optionalString(_ key: String) throws(TokenizerError) -> String? { try self[key]?.asString() }
    func bool(_ key: String, default fallback: Bool) throws(TokenizerError) -> Bool { try self[key]?.asBool() ?? fallback }
    func int(_ key: String, default fallback: Int) throws(TokenizerError) -> Int { try self[key]?.asInt() ?? fallback }
    func optionalInt(_ key: String) throws(TokenizerError) -> Int? { try self[key]?.asInt() }
}
