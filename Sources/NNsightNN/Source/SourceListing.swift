/// A marked function's source text and its operations, recorded by `@Sourced` at compile time.
/// Codable: a remote server sends its modules' listings to its clients at connect.
public struct SourceListing: Sendable, Equatable, Codable {
    /// The function's name (`forward`).
    public let function: String
    /// The function's source, dedented, from its first modifier or `func` to its closing brace,
    /// ending with a newline.
    public let text: String
    /// The operation names in numbering (execution) order: `self_c_attn_0`, `split_0`, ….
    public let operations: [String]
    /// The line each operation starts on, 0 being the function's first line.
    public let lines: [Int]

    public init(function: String, text: String, operations: [String], lines: [Int]) {
        self.function = function
        self.text = text
        self.operations = operations
        self.lines = lines
    }

    /// The position of operation `name` in ``operations``.
    public func index(of name: String) -> Int? { operations.firstIndex(of: name) }

    /// The source with each operation beside its line, exactly as Python nnsight prints
    /// `envoy.source`: the first line marked `*`, body lines numbered from 0, the first operation
    /// of a line before it and further ones on `+` lines.
    public var formatted: String {
        let width = operations.map(\.count).max() ?? 0
        let sourceLines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var byLine: [Int: [String]] = [:]
        for (name, line) in zip(operations, lines) { byLine[line - 1, default: []].append(name) }
        var out = [String(repeating: " ", count: width + 6) + "* " + sourceLines[0]]
        for (i, line) in sourceLines.dropFirst().enumerated() {
            let number = Self.rightAligned(i, 3)
            if let names = byLine[i] {
                out.append(" \(Self.padded(names[0], width)) ->\(number) \(line)")
                let indent = String(line.prefix(while: { $0 == " " }))
                for name in names.dropFirst() { out.append(" \(Self.padded(name, width)) ->  + \(indent)...") }
            } else {
                out.append(String(repeating: " ", count: width + 4) + "\(number) \(line)")
            }
        }
        return out.joined(separator: "\n")
    }

    /// Operation `name`'s line in context, as Python prints `envoy.source.<op>`: the path, then up
    /// to five lines before and seven after, the operation's line marked `--> … <--`, `....`
    /// where lines were left out.
    public func formatted(operation name: String, path: String) -> String {
        guard let index = index(of: name) else { return path }
        let sourceLines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let lineNumber = lines[index] - 1
        let start = max(0, lineNumber - 5)
        let end = min(sourceLines.count - 1, lineNumber + 8)
        var out = [path + ":\n"]
        if start != 0 { out.append("    ....") }
        for i in start..<max(start, end) {
            let line = sourceLines[i]
            if i == lineNumber + 1 {
                out.append("    --> \(line.dropFirst(min(4, line.count))) <--")
            } else {
                out.append("    " + line)
            }
        }
        if end != sourceLines.count - 1 { out.append("    ....") }
        return out.joined(separator: "\n")
    }

    static func padded(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }

    static func rightAligned(_ number: Int, _ width: Int) -> String {
        let text = String(number)
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
