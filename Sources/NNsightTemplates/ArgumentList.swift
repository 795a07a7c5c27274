/// The arguments of a call, filter or test, taken by position or by keyword as Python binds
/// them; `finish()` rejects whatever is left over.
struct ArgumentList {
    private var positional: [TemplateValue]
    private var keyword: [(String, TemplateValue)]
    let function: String
    let location: SourceLocation

    init(positional: [TemplateValue], keyword: [(String, TemplateValue)], function: String, location: SourceLocation) {
        self.positional = positional
        self.keyword = keyword
        self.function = function
        self.location = location
    }

    /// The next positional argument, else the keyword argument `name`, else nil.
    mutating func optional(_ name: String) throws(TemplateError) -> TemplateValue? {
        if let index = keyword.firstIndex(where: { $0.0 == name }) {
            guard positional.isEmpty else { throw location.runtime("\(function)() got multiple values for argument '\(name)'") }
            return keyword.remove(at: index).1
        }
        return positional.isEmpty ? nil : positional.removeFirst()
    }

    /// The keyword argument `name` only (Python's keyword-only parameters).
    mutating func keywordOnly(_ name: String) -> TemplateValue? {
        guard let index = keyword.firstIndex(where: { $0.0 == name }) else { return nil }
        return keyword.remove(at: index).1
    }

    mutating func required(_ name: String) throws(TemplateError) -> TemplateValue {
        guard let value = try optional(name) else { throw location.runtime("\(function)() missing required argument '\(name)'") }
        return value
    }

    mutating func optionalString(_ name: String) throws(TemplateError) -> String? {
        switch try optional(name) {
        case nil, .none?: return nil
        case let .string(text)?: return text
        case let other?: throw location.runtime("\(function)() argument '\(name)' must be str, not \(other.typeName)")
        }
    }

    mutating func optionalInt(_ name: String) throws(TemplateError) -> Int? {
        switch try optional(name) {
        case nil, .none?: return nil
        case let .int(number)?: return number
        case let .bool(flag)?: return flag ? 1 : 0
        case let other?: throw location.runtime("\(function)() argument '\(name)' must be int, not \(other.typeName)")
        }
    }

    mutating func optionalBool(_ name: String) throws(TemplateError) -> Bool? {
        try optional(name).map(\.isTruthy)
    }

    /// The remaining positional arguments.
    mutating func rest() -> [TemplateValue] {
        defer { positional = [] }
        return positional
    }

    /// The remaining keyword arguments.
    mutating func restKeywords() -> [(String, TemplateValue)] {
        defer { keyword = [] }
        return keyword
    }

    func finish() throws(TemplateError) {
        if !positional.isEmpty { throw location.runtime("\(function)() got \(positional.count) unexpected positional argument(s)") }
        if let (name, _) = keyword.first { throw location.runtime("\(function)() got an unexpected keyword argument '\(name)'") }
    }
}
