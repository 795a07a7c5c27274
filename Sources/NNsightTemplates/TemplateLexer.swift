/// One token of a template: template text, the delimiters of `{{ }}` and `{% %}`, and the
/// names, literals and operators between them.
struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        case text(String)
        case variableStart, variableEnd, blockStart, blockEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        /// An operator or punctuation: `+`, `//`, `==`, `(`, `|`, `.`, …
        case symbol(String)
        case end
    }

    let kind: Kind
    let location: SourceLocation
}

/// Splits a template into tokens the way jinja2's lexer does with transformers' settings
/// (`trim_blocks=True`, `lstrip_blocks=True`, `keep_trailing_newline=False`): a block or
/// comment tag drops the newline after it and the spaces before it on its line; `{%-`/`-%}`
/// (and `{{-`, `{#-`, …) strip all whitespace on that side, `{%+`/`+%}` turn the automatic
/// stripping off; newlines in text become `\n` and one trailing newline is dropped.
struct TemplateLexer {
    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var line = 1
    private var column = 1
    private(set) var tokens: [Token] = []

    static func tokenize(_ source: String) throws(TemplateError) -> [Token] {
        var lexer = TemplateLexer(source)
        try lexer.run()
        return lexer.tokens
    }

    private init(_ source: String) {
        var scalars = Array(source.unicodeScalars)
        if scalars.last == "\n" {
            scalars.removeLast()
            if scalars.last == "\r" { scalars.removeLast() }
        } else if scalars.last == "\r" {
            scalars.removeLast()
        }
        self.scalars = scalars
    }

    private var location: SourceLocation { SourceLocation(line: line, column: column) }

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        position + offset < scalars.count ? scalars[position + offset] : nil
    }

    private func matches(_ text: String, at offset: Int = 0) -> Bool {
        var index = position + offset
        for scalar in text.unicodeScalars {
            guard index < scalars.count, scalars[index] == scalar else { return false }
            index += 1
        }
        return true
    }

    private mutating func advance(_ count: Int = 1) {
        for _ in 0..<count where position < scalars.count {
            if scalars[position] == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
            position += 1
        }
    }

    private enum TagKind { case variable, block, comment }

    private mutating func run() throws(TemplateError) {
        var stripLeading = false  // the previous tag ended with `-`
        var lineStarting = true  // the text starts at the beginning of a line
        while position < scalars.count {
            // The text up to the next tag.
            let textStart = position, textLocation = location
            var tagKind: TagKind?
            while position < scalars.count {
                if scalars[position] == "{", let next = peek(1) {
                    if next == "{" { tagKind = .variable; break }
                    if next == "%" { tagKind = .block; break }
                    if next == "#" { tagKind = .comment; break }
                }
                advance()
            }
            var text = Array(scalars[textStart..<position])
            if stripLeading { text = Array(text.drop(while: { Python.isWhitespace($0) })) }
            let modifier = tagKind != nil ? peek(2) : nil
            if modifier == "-" {
                while let last = text.last, Python.isWhitespace(last) { text.removeLast() }
            } else if let tagKind, tagKind != .variable, modifier != "+" {
                // lstrip_blocks: spaces and tabs alone before the tag on its line go.
                let lineStart = (text.lastIndex(of: "\n").map { $0 + 1 }) ?? 0
                if (lineStart > 0 || lineStarting) && text[lineStart...].allSatisfy({ $0 == " " || $0 == "\t" }) {
                    text.removeSubrange(lineStart...)
                }
            }
            if !text.isEmpty { tokens.append(Token(kind: .text(Self.normalizeNewlines(text)), location: textLocation)) }
            guard let tagKind else { break }
            let tagLocation = location
            advance(modifier == "-" || modifier == "+" ? 3 : 2)
            var endModifier: Unicode.Scalar?
            switch tagKind {
            case .comment:
                while position < scalars.count && !matches("#}") { advance() }
                guard position < scalars.count else { throw tagLocation.syntax("Missing end of comment tag") }
                if position > 0, scalars[position - 1] == "-" || scalars[position - 1] == "+" { endModifier = scalars[position - 1] }
                advance(2)
            case .variable, .block:
                tokens.append(Token(kind: tagKind == .variable ? .variableStart : .blockStart, location: tagLocation))
                endModifier = try lexExpression(until: tagKind == .variable ? "}}" : "%}", opened: tagLocation, block: tagKind == .block)
            }
            stripLeading = endModifier == "-"
            lineStarting = false
            if stripLeading {
                let before = position
                while let next = peek(), Python.isWhitespace(next) { advance() }
                lineStarting = position > before && scalars[position - 1] == "\n"
                stripLeading = false
            } else if tagKind != .variable && endModifier != "+" {
                // trim_blocks: the first newline after a block or comment tag goes.
                if peek() == "\n" {
                    advance()
                    lineStarting = true
                } else if peek() == "\r" {
                    advance(peek(1) == "\n" ? 2 : 1)
                    lineStarting = true
                }
            }
        }
        tokens.append(Token(kind: .end, location: location))
    }

    private static func normalizeNewlines(_ text: [Unicode.Scalar]) -> String {
        var view = String.UnicodeScalarView()
        var index = 0
        while index < text.count {
            if text[index] == "\r" {
                view.append("\n")
                if index + 1 < text.count && text[index + 1] == "\n" { index += 1 }
            } else {
                view.append(text[index])
            }
            index += 1
        }
        return String(view)
    }

    /// Lexes the inside of a tag up to its closing delimiter; returns the `-` or `+` before it.
    private mutating func lexExpression(until close: String, opened: SourceLocation, block: Bool) throws(TemplateError) -> Unicode.Scalar? {
        var depth = 0
        while true {
            while let next = peek(), Python.isWhitespace(next) { advance() }
            guard let scalar = peek() else {
                throw opened.syntax("unexpected end of template, expected '\(close)'")
            }
            if depth == 0 {
                if matches(close) {
                    tokens.append(Token(kind: block ? .blockEnd : .variableEnd, location: location))
                    advance(2)
                    return nil
                }
                if (scalar == "-" || scalar == "+") && matches(close, at: 1) {
                    tokens.append(Token(kind: block ? .blockEnd : .variableEnd, location: location))
                    advance(3)
                    return scalar
                }
            }
            let start = location
            if scalar == "\"" || scalar == "'" {
                tokens.append(Token(kind: .string(try lexString(quote: scalar)), location: start))
            } else if scalar.properties.isAlphabetic || scalar == "_" {
                var name = ""
                while let next = peek(), next.properties.isAlphabetic || next == "_" || ("0"..."9").contains(next) {
                    name.unicodeScalars.append(next)
                    advance()
                }
                tokens.append(Token(kind: .name(name), location: start))
            } else if ("0"..."9").contains(scalar) {
                tokens.append(Token(kind: try lexNumber(), location: start))
            } else {
                let symbols = ["//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "(", ")", "[", "]", "{", "}",
                               ",", ".", ":", "|", "=", "<", ">", ";"]
                guard let symbol = symbols.first(where: { matches($0) }) else {
                    throw start.syntax("unexpected char '\(Character(scalar))'")
                }
                if symbol == "(" || symbol == "[" || symbol == "{" { depth += 1 }
                if symbol == ")" || symbol == "]" || symbol == "}" { depth -= 1 }
                if depth < 0 { throw start.syntax("unexpected '\(symbol)'") }
                tokens.append(Token(kind: .symbol(symbol), location: start))
                advance(symbol.unicodeScalars.count)
            }
        }
    }

    private mutating func lexString(quote: Unicode.Scalar) throws(TemplateError) -> String {
        let start = location
        advance()
        var view = String.UnicodeScalarView()
        while true {
            guard let scalar = peek() else { throw start.syntax("unexpected end of string") }
            advance()
            if scalar == quote { break }
            if scalar == "\r" {
                view.append("\n")
                if peek() == "\n" { advance() }
                continue
            }
            guard scalar == "\\", let escaped = peek() else {
                view.append(scalar)
                continue
            }
            advance()
            switch escaped {
            case "n": view.append("\n")
            case "t": view.append("\t")
            case "r": view.append("\r")
            case "0": view.append("\0")
            case "a": view.append("\u{07}")
            case "b": view.append("\u{08}")
            case "f": view.append("\u{0C}")
            case "v": view.append("\u{0B}")
            case "\\", "'", "\"": view.append(escaped)
            case "\n": break
            case "x", "u", "U":
                let width = escaped == "x" ? 2 : (escaped == "u" ? 4 : 8)
                var digits = ""
                for _ in 0..<width {
                    guard let digit = peek(), digit.properties.isASCIIHexDigit else { throw location.syntax("truncated \\\(escaped) escape") }
                    digits.unicodeScalars.append(digit)
                    advance()
                }
                guard let value = UInt32(digits, radix: 16), let decoded = Unicode.Scalar(value) else {
                    throw location.syntax("invalid \\\(escaped) escape")
                }
                view.append(decoded)
            default:
                // Python keeps unknown escapes as written.
                view.append("\\")
                view.append(escaped)
            }
        }
        return String(view)
    }

    private mutating func lexNumber() throws(TemplateError) -> Token.Kind {
        let start = location
        var text = ""
        func digits(_ lexer: inout TemplateLexer, into text: inout String) {
            while let next = lexer.peek(), ("0"..."9").contains(next) || (next == "_" && lexer.peek(1).map { ("0"..."9").contains($0) } == true) {
                if next != "_" { text.unicodeScalars.append(next) }
                lexer.advance()
            }
        }
        digits(&self, into: &text)
        var isFloat = false
        if peek() == ".", let after = peek(1), ("0"..."9").contains(after) {
            isFloat = true
            text += "."
            advance()
            digits(&self, into: &text)
        }
        if let e = peek(), e == "e" || e == "E" {
            var offset = 1
            if let sign = peek(1), sign == "+" || sign == "-" { offset = 2 }
            if let digit = peek(offset), ("0"..."9").contains(digit) {
                isFloat = true
                text += "e"
                if offset == 2 { text.unicodeScalars.append(peek(1)!) }
                advance(offset)
                digits(&self, into: &text)
            }
        }
        if isFloat {
            guard let value = Double(text) else { throw start.syntax("invalid number \(text)") }
            return .float(value)
        }
        guard let value = Int(text) else { throw start.syntax("integer \(text) is too large") }
        return .integer(value)
    }
}
