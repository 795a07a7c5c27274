/// A value inside a Jinja template, with Python's semantics (what jinja2 sees after transformers
/// turns the messages into plain JSON data): `None`, booleans, integers, floats, strings, lists
/// and insertion-ordered dictionaries, plus namespaces and callables made by the template.
///
/// ```python
/// template.render(messages=[{"role": "user", "content": "Hi"}], add_generation_prompt=True)
/// ```
/// ```swift
/// try template.render(["messages": [["role": "user", "content": "Hi"]], "add_generation_prompt": true])
/// ```
public indirect enum TemplateValue: Sendable {
    /// Python's `None` (`none` in templates).
    case none
    /// A name or attribute that does not exist; `hint` says which (jinja2's `Undefined`).
    /// It prints as nothing, is false, iterates as empty, and fails when used otherwise.
    case undefined(hint: String)
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    /// A list (tuples are lists here).
    case array([TemplateValue])
    case dictionary(TemplateDictionary)
    /// `namespace(...)`: the one mutable object a template can make.
    case namespace(TemplateNamespace)
    /// A macro, a global function (`raise_exception`, `range`, …) or a bound method.
    case callable(TemplateCallable)

    /// Python's truth value (`bool(x)`).
    public var isTruthy: Bool {
        switch self {
        case .none, .undefined: return false
        case let .bool(value): return value
        case let .int(value): return value != 0
        case let .double(value): return value != 0
        case let .string(value): return !value.isEmpty
        case let .array(values): return !values.isEmpty
        case let .dictionary(dictionary): return !dictionary.isEmpty
        case .namespace, .callable: return true
        }
    }

    var isUndefined: Bool { if case .undefined = self { return true } else { return false } }

    /// The Python type name, for error messages (`'dict object' has no attribute ...`).
    var typeName: String {
        switch self {
        case .none: return "NoneType"
        case .undefined: return "Undefined"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .array: return "list"
        case .dictionary: return "dict"
        case .namespace: return "Namespace"
        case .callable: return "function"
        }
    }
}

extension TemplateValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: TemplateValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        var dictionary = TemplateDictionary()
        for (key, value) in elements { dictionary[key] = value }
        self = .dictionary(dictionary)
    }
}

/// An insertion-ordered dictionary with string keys (a Python `dict` built from JSON).
public struct TemplateDictionary: Sendable, ExpressibleByDictionaryLiteral {
    /// The keys, in insertion order.
    public private(set) var keys: [String] = []
    private var storage: [String: TemplateValue] = [:]

    public init() {}

    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        for (key, value) in elements { self[key] = value }
    }

    /// Reads or writes a key; writing nil removes it. A new key goes last, as in Python.
    public subscript(key: String) -> TemplateValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    public var count: Int { keys.count }

    /// The stored key of a template value used as a key: a string is itself; numbers, booleans
    /// and `None` (Python allows them, `{0: 0, 512: 128}`) get a reserved prefix, with
    /// `True == 1 == 1.0` as in Python. Nil for values that cannot be keys (lists, dictionaries).
    static func storedKey(_ value: TemplateValue) -> String? {
        switch value {
        case let .string(text): return text
        case .none: return nonStringPrefix + "none"
        case let .bool(flag): return nonStringPrefix + (flag ? "1" : "0")
        case let .int(number): return nonStringPrefix + String(number)
        case let .double(number):
            if let integer = Int(exactly: number) { return nonStringPrefix + String(integer) }
            return nonStringPrefix + "f" + Python.floatRepr(number)
        default: return nil
        }
    }

    /// The template value of a stored key.
    static func keyValue(_ key: String) -> TemplateValue {
        guard key.hasPrefix(nonStringPrefix) else { return .string(key) }
        let body = String(key.dropFirst(nonStringPrefix.count))
        if body == "none" { return .none }
        if body.hasPrefix("f") { return .double(Double(body.dropFirst()) ?? .nan) }
        return .int(Int(body) ?? 0)
    }

    /// Marks keys that were not strings (a string key cannot start with a NUL and a newline).
    static let nonStringPrefix = "\u{0}\n"
    public var isEmpty: Bool { keys.isEmpty }
    /// The key-value pairs in insertion order.
    public var items: [(key: String, value: TemplateValue)] { keys.map { ($0, storage[$0]!) } }
}

/// The state of a `namespace(...)`: attributes assigned with `{% set ns.name = value %}` inside
/// loops stay visible after them.
///
/// `@unchecked Sendable` (a ``TemplateValue`` case holds it), earned by confinement: only the
/// render that made it touches it, on the render's thread, and the render empties it when it ends.
public final class TemplateNamespace: @unchecked Sendable {
    var attributes: TemplateDictionary

    init(_ attributes: TemplateDictionary) { self.attributes = attributes }
}

/// Something a template can call.
///
/// `@unchecked Sendable` (a ``TemplateValue`` case holds it), earned by confinement: a macro holds
/// its render's mutable `Scope`, and a callable is made and called only inside that one render
/// (nothing public makes one, and a render returns only text).
public struct TemplateCallable: @unchecked Sendable {
    enum Kind {
        case macro(Macro)
        case builtin(String)
        /// `value.name(...)`: a string, list or dictionary method.
        case method(TemplateValue, String)
        /// `loop.cycle(...)` at the iteration `index0`.
        case cycle(Int)
    }

    let kind: Kind
}

/// A `{% macro name(parameters) %}` with the scope it was defined in.
struct Macro {
    let name: String
    let parameters: [(name: String, defaultValue: Expression?)]
    let body: [Node]
    let scope: Scope
}
