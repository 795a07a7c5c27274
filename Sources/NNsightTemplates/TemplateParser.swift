/// Builds the statements of a template from its tokens, with jinja2's grammar and operator
/// precedence (filters and `is` tests bind tighter than arithmetic: `'a' + x | trim` trims `x`).
struct TemplateParser {
    private let tokens: [Token]
    private var index = 0
    /// How deep expressions and blocks nest while parsing; deeper than ``maximumNesting`` is a
    /// syntax error rather than a stack overflow.
    private var nesting = 0
    static let maximumNesting = 100

    private mutating func deeper(_ location: SourceLocation) throws(TemplateError) {
        nesting += 1
        guard nesting <= Self.maximumNesting else {
            throw location.syntax("template nests too deeply (more than \(Self.maximumNesting) levels)")
        }
    }

    static func parse(_ tokens: [Token]) throws(TemplateError) -> [Node] {
        var parser = TemplateParser(tokens: tokens)
        let (body, stop) = try parser.parseBody(until: [])
        if let stop { throw stop.location.syntax("Encountered unknown tag '\(stop.name)'.") }
        return body
    }

    private init(tokens: [Token]) { self.tokens = tokens }

    // MARK: Token access

    private var current: Token { tokens[index] }
    private func peekKind(_ offset: Int = 1) -> Token.Kind { tokens[min(index + offset, tokens.count - 1)].kind }
    private mutating func next() -> Token {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    private func isSymbol(_ symbol: String) -> Bool { current.kind == .symbol(symbol) }
    private func isName(_ name: String) -> Bool { current.kind == .name(name) }

    private mutating func skipSymbol(_ symbol: String) -> Bool {
        guard isSymbol(symbol) else { return false }
        index += 1
        return true
    }

    private mutating func skipName(_ name: String) -> Bool {
        guard isName(name) else { return false }
        index += 1
        return true
    }

    private mutating func expectSymbol(_ symbol: String) throws(TemplateError) {
        guard skipSymbol(symbol) else { throw unexpected(expected: "'\(symbol)'") }
    }

    private mutating func expectName() throws(TemplateError) -> String {
        guard case let .name(name) = current.kind else { throw unexpected(expected: "a name") }
        index += 1
        return name
    }

    private mutating func expectBlockEnd() throws(TemplateError) {
        guard current.kind == .blockEnd else { throw unexpected(expected: "end of statement block") }
        index += 1
    }

    private func describe(_ kind: Token.Kind) -> String {
        switch kind {
        case let .text(text): return "text '\(text.prefix(20))'"
        case .variableStart: return "'{{'"
        case .variableEnd: return "'}}'"
        case .blockStart: return "'{%'"
        case .blockEnd: return "end of statement block"
        case let .name(name): return "'\(name)'"
        case let .string(string): return "string '\(string)'"
        case let .integer(number): return "integer \(number)"
        case let .float(number): return "float \(number)"
        case let .symbol(symbol): return "'\(symbol)'"
        case .end: return "end of template"
        }
    }

    private func unexpected(expected: String) -> TemplateError {
        current.location.syntax("expected \(expected), got \(describe(current.kind))")
    }

    // MARK: Statements

    /// The tag that ended a body: its name and where it is (the `{%` has been read).
    private struct Stop { let name: String; let location: SourceLocation }

    /// Parses statements up to a block tag whose name is in `stops` (left unread after its name),
    /// or the end of the template when `stops` is empty.
    private mutating func parseBody(until stops: Set<String>) throws(TemplateError) -> ([Node], Stop?) {
        var body: [Node] = []
        while true {
            let token = current
            switch token.kind {
            case let .text(text):
                index += 1
                body.append(Node(kind: .text(text), location: token.location))
            case .variableStart:
                index += 1
                let expression = try parseExpression()
                guard current.kind == .variableEnd else { throw unexpected(expected: "end of print statement") }
                index += 1
                body.append(Node(kind: .output(expression), location: token.location))
            case .blockStart:
                index += 1
                guard case let .name(name) = current.kind else { throw unexpected(expected: "a statement name") }
                if stops.contains(name) {
                    index += 1
                    return (body, Stop(name: name, location: token.location))
                }
                body.append(try parseStatement(startingAt: token.location))
            case .end:
                if stops.isEmpty { return (body, nil) }
                let expected = stops.sorted().map { "'\($0)'" }.joined(separator: " or ")
                throw token.location.syntax("Unexpected end of template. Jinja was looking for the following tags: \(expected).")
            default:
                throw unexpected(expected: "template text or a tag")
            }
        }
    }

    private mutating func parseStatement(startingAt location: SourceLocation) throws(TemplateError) -> Node {
        try deeper(location)
        defer { nesting -= 1 }
        let nameToken = next()
        guard case let .name(name) = nameToken.kind else { throw nameToken.location.syntax("expected a statement name") }
        switch name {
        case "if": return try parseIf(location)
        case "for": return try parseFor(location)
        case "set": return try parseSet(location)
        case "macro": return try parseMacro(location)
        case "filter":
            let filterName = try expectName()
            let arguments = isSymbol("(") ? try parseCallArguments() : Arguments()
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endfilter"])
            try expectBlockEnd()
            return Node(kind: .filterBlock(name: filterName, arguments: arguments, body: body), location: location)
        case "break", "continue":
            try expectBlockEnd()
            return Node(kind: name == "break" ? .breakLoop : .continueLoop, location: location)
        case "generation":
            // transformers' extension: marks the assistant's tokens; renders its body unchanged.
            try expectBlockEnd()
            let (body, _) = try parseBody(until: ["endgeneration"])
            try expectBlockEnd()
            return Node(kind: .scope(body), location: location)
        default:
            throw nameToken.location.syntax("Encountered unknown tag '\(name)'.")
        }
    }

    private mutating func parseIf(_ location: SourceLocation) throws(TemplateError) -> Node {
        var branches: [(condition: Expression, body: [Node])] = []
        var condition = try parseTupleOrExpression()
        while true {
            try expectBlockEnd()
            let (body, stop) = try parseBody(until: ["elif", "else", "endif"])
            branches.append((condition, body))
            switch stop!.name {
            case "elif":
                condition = try parseTupleOrExpression()
            case "else":
                try expectBlockEnd()
                let (otherwise, _) = try parseBody(until: ["endif"])
                try expectBlockEnd()
                return Node(kind: .conditional(branches: branches, otherwise: otherwise), location: location)
            default:
                try expectBlockEnd()
                return Node(kind: .conditional(branches: branches, otherwise: []), location: location)
            }
        }
    }

    private mutating func parseFor(_ location: SourceLocation) throws(TemplateError) -> Node {
        var targets = [try expectName()]
        while skipSymbol(",") { targets.append(try expectName()) }
        guard skipName("in") else { throw unexpected(expected: "'in'") }
        let iterable = try parseTupleOrExpression(allowConditional: false)
        var condition: Expression?
        if skipName("if") { condition = try parseExpression() }
        if skipName("recursive") { throw current.location.syntax("recursive for loops are not supported") }
        try expectBlockEnd()
        let (body, stop) = try parseBody(until: ["endfor", "else"])
        var otherwise: [Node] = []
        if stop!.name == "else" {
            try expectBlockEnd()
            (otherwise, _) = try parseBody(until: ["endfor"])
        }
        try expectBlockEnd()
        let loop = ForLoop(targets: targets, iterable: iterable, condition: condition, body: body, otherwise: otherwise)
        return Node(kind: .forLoop(loop), location: location)
    }

    private mutating func parseSet(_ location: SourceLocation) throws(TemplateError) -> Node {
        let first = try expectName()
        if skipSymbol(".") {
            let attribute = try expectName()
            try expectSymbol("=")
            let value = try parseTupleOrExpression()
            try expectBlockEnd()
            return Node(kind: .assignAttribute(object: first, attribute: attribute, value: value), location: location)
        }
        var names = [first]
        while skipSymbol(",") { names.append(try expectName()) }
        if skipSymbol("=") {
            let value = try parseTupleOrExpression()
            try expectBlockEnd()
            return Node(kind: .assign(names: names, value: value), location: location)
        }
        guard names.count == 1 else { throw unexpected(expected: "'='") }
        var filters: [(name: String, arguments: Arguments, location: SourceLocation)] = []
        while skipSymbol("|") {
            let filterLocation = current.location
            let name = try expectName()
            filters.append((name, isSymbol("(") ? try parseCallArguments() : Arguments(), filterLocation))
        }
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endset"])
        try expectBlockEnd()
        return Node(kind: .assignBlock(name: first, filters: filters, body: body), location: location)
    }

    private mutating func parseMacro(_ location: SourceLocation) throws(TemplateError) -> Node {
        let name = try expectName()
        try expectSymbol("(")
        var parameters: [(name: String, defaultValue: Expression?)] = []
        while !skipSymbol(")") {
            if !parameters.isEmpty { try expectSymbol(",") }
            if skipSymbol(")") { break }
            let parameter = try expectName()
            var defaultValue: Expression?
            if skipSymbol("=") { defaultValue = try parseExpression() }
            else if parameters.contains(where: { $0.defaultValue != nil }) {
                throw current.location.syntax("non-default argument follows default argument")
            }
            parameters.append((parameter, defaultValue))
        }
        try expectBlockEnd()
        let (body, _) = try parseBody(until: ["endmacro"])
        if case .name = current.kind { index += 1 }  // `{% endmacro name %}`
        try expectBlockEnd()
        return Node(kind: .macro(name: name, parameters: parameters, body: body), location: location)
    }

    // MARK: Expressions

    /// An expression, or several separated by commas (a tuple, made a list here).
    private mutating func parseTupleOrExpression(allowConditional: Bool = true) throws(TemplateError) -> Expression {
        let location = current.location
        let first = allowConditional ? try parseExpression() : try parseOr()
        guard isSymbol(",") else { return first }
        var items = [first]
        while skipSymbol(",") {
            if current.kind == .blockEnd || current.kind == .variableEnd || isName("if") { break }
            items.append(allowConditional ? try parseExpression() : try parseOr())
        }
        return Expression(kind: .list(items), location: location)
    }

    mutating func parseExpression() throws(TemplateError) -> Expression {
        let location = current.location
        try deeper(location)
        defer { nesting -= 1 }
        let value = try parseOr()
        guard skipName("if") else { return value }
        let condition = try parseOr()
        var otherwise: Expression?
        if skipName("else") { otherwise = try parseExpression() }
        return Expression(kind: .conditional(condition: condition, then: value, otherwise: otherwise), location: location)
    }

    private mutating func parseOr() throws(TemplateError) -> Expression {
        var left = try parseAnd()
        while isName("or") {
            let location = next().location
            left = Expression(kind: .or(left, try parseAnd()), location: location)
        }
        return left
    }

    private mutating func parseAnd() throws(TemplateError) -> Expression {
        var left = try parseNot()
        while isName("and") {
            let location = next().location
            left = Expression(kind: .and(left, try parseNot()), location: location)
        }
        return left
    }

    private mutating func parseNot() throws(TemplateError) -> Expression {
        if isName("not") {
            let location = next().location
            try deeper(location)
            defer { nesting -= 1 }
            return Expression(kind: .unary("not", try parseNot()), location: location)
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws(TemplateError) -> Expression {
        let location = current.location
        let left = try parseMath1()
        var operations: [(op: String, operand: Expression)] = []
        while true {
            if case let .symbol(symbol) = current.kind, ["==", "!=", "<", ">", "<=", ">="].contains(symbol) {
                index += 1
                operations.append((symbol, try parseMath1()))
            } else if isName("in") {
                index += 1
                operations.append(("in", try parseMath1()))
            } else if isName("not"), peekKind() == .name("in") {
                index += 2
                operations.append(("not in", try parseMath1()))
            } else {
                break
            }
        }
        return operations.isEmpty ? left : Expression(kind: .compare(left, operations), location: location)
    }

    private mutating func parseMath1() throws(TemplateError) -> Expression {
        var left = try parseConcat()
        while case let .symbol(symbol) = current.kind, symbol == "+" || symbol == "-" {
            let location = next().location
            left = Expression(kind: .binary(symbol, left, try parseConcat()), location: location)
        }
        return left
    }

    private mutating func parseConcat() throws(TemplateError) -> Expression {
        var left = try parseMath2()
        while isSymbol("~") {
            let location = next().location
            left = Expression(kind: .binary("~", left, try parseMath2()), location: location)
        }
        return left
    }

    private mutating func parseMath2() throws(TemplateError) -> Expression {
        var left = try parsePow()
        while case let .symbol(symbol) = current.kind, ["*", "/", "//", "%"].contains(symbol) {
            let location = next().location
            left = Expression(kind: .binary(symbol, left, try parsePow()), location: location)
        }
        return left
    }

    private mutating func parsePow() throws(TemplateError) -> Expression {
        var left = try parseUnary()
        while isSymbol("**") {
            let location = next().location
            left = Expression(kind: .binary("**", left, try parseUnary()), location: location)
        }
        return left
    }

    private mutating func parseUnary(withFilter: Bool = true) throws(TemplateError) -> Expression {
        let location = current.location
        var node: Expression
        if case let .symbol(symbol) = current.kind, symbol == "-" || symbol == "+" {
            index += 1
            try deeper(location)
            defer { nesting -= 1 }
            node = Expression(kind: .unary(symbol, try parseUnary(withFilter: false)), location: location)
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        if withFilter { node = try parseFilterAndTest(node) }
        return node
    }

    private mutating func parsePrimary() throws(TemplateError) -> Expression {
        let token = current
        switch token.kind {
        case let .name(name):
            index += 1
            switch name {
            case "true", "True": return Expression(kind: .literal(.bool(true)), location: token.location)
            case "false", "False": return Expression(kind: .literal(.bool(false)), location: token.location)
            case "none", "None": return Expression(kind: .literal(.none), location: token.location)
            default: return Expression(kind: .name(name), location: token.location)
            }
        case var .string(string):
            index += 1
            // Adjacent string literals join, as in Python.
            while case let .string(more) = current.kind {
                string += more
                index += 1
            }
            return Expression(kind: .literal(.string(string)), location: token.location)
        case let .integer(number):
            index += 1
            return Expression(kind: .literal(.int(number)), location: token.location)
        case let .float(number):
            index += 1
            return Expression(kind: .literal(.double(number)), location: token.location)
        case .symbol("("):
            index += 1
            if skipSymbol(")") { return Expression(kind: .list([]), location: token.location) }
            let inner = try parseExpression()
            if isSymbol(",") {
                var items = [inner]
                while skipSymbol(",") {
                    if isSymbol(")") { break }
                    items.append(try parseExpression())
                }
                try expectSymbol(")")
                return Expression(kind: .list(items), location: token.location)
            }
            try expectSymbol(")")
            return inner
        case .symbol("["):
            index += 1
            var items: [Expression] = []
            while !skipSymbol("]") {
                if !items.isEmpty { try expectSymbol(",") }
                if skipSymbol("]") { break }
                items.append(try parseExpression())
            }
            return Expression(kind: .list(items), location: token.location)
        case .symbol("{"):
            index += 1
            var pairs: [(key: Expression, value: Expression)] = []
            while !skipSymbol("}") {
                if !pairs.isEmpty { try expectSymbol(",") }
                if skipSymbol("}") { break }
                let key = try parseExpression()
                try expectSymbol(":")
                pairs.append((key, try parseExpression()))
            }
            return Expression(kind: .dictionary(pairs), location: token.location)
        default:
            throw token.location.syntax("unexpected \(describe(token.kind))")
        }
    }

    private mutating func parsePostfix(_ base: Expression) throws(TemplateError) -> Expression {
        var node = base
        while true {
            let location = current.location
            if skipSymbol(".") {
                switch next().kind {
                case let .name(name): node = Expression(kind: .attribute(node, name), location: location)
                case let .integer(number): node = Expression(kind: .item(node, Expression(kind: .literal(.int(number)), location: location)), location: location)
                default: throw location.syntax("expected name or number after '.'")
                }
            } else if skipSymbol("[") {
                node = try parseSubscript(node, location: location)
            } else if isSymbol("(") {
                node = Expression(kind: .call(node, try parseCallArguments()), location: node.location)
            } else {
                return node
            }
        }
    }

    private mutating func parseSubscript(_ base: Expression, location: SourceLocation) throws(TemplateError) -> Expression {
        var parts: [Expression?] = []
        var sawColon = false
        var currentPart: Expression?
        while !isSymbol("]") {
            if skipSymbol(":") {
                sawColon = true
                parts.append(currentPart)
                currentPart = nil
                guard parts.count <= 2 else { throw location.syntax("too many ':' in a slice") }
            } else {
                guard currentPart == nil else { throw unexpected(expected: "']'") }
                currentPart = try parseExpression()
            }
        }
        index += 1
        parts.append(currentPart)
        if !sawColon {
            guard let item = parts[0] else { throw location.syntax("expected an index") }
            return Expression(kind: .item(base, item), location: location)
        }
        while parts.count < 3 { parts.append(nil) }
        return Expression(kind: .slice(base, start: parts[0], stop: parts[1], step: parts[2]), location: location)
    }

    private mutating func parseCallArguments() throws(TemplateError) -> Arguments {
        try expectSymbol("(")
        var arguments = Arguments()
        var first = true
        while !skipSymbol(")") {
            if !first { try expectSymbol(",") }
            first = false
            if skipSymbol(")") { break }
            if case let .name(name) = current.kind, peekKind() == .symbol("=") {
                index += 2
                arguments.keyword.append((name, try parseExpression()))
            } else {
                if !arguments.keyword.isEmpty { throw current.location.syntax("positional argument follows keyword argument") }
                arguments.positional.append(try parseExpression())
            }
        }
        return arguments
    }

    private mutating func parseFilterAndTest(_ base: Expression) throws(TemplateError) -> Expression {
        var node = base
        while true {
            let location = current.location
            if skipSymbol("|") {
                let name = try parseDottedName()
                let arguments = isSymbol("(") ? try parseCallArguments() : Arguments()
                node = Expression(kind: .filter(node, name: name, arguments), location: location)
            } else if skipName("is") {
                let negated = skipName("not")
                let name = try parseDottedName()
                var arguments = Arguments()
                if isSymbol("(") {
                    arguments = try parseCallArguments()
                } else if startsPrimary(), !isName("else"), !isName("or"), !isName("and") {
                    arguments.positional = [try parsePostfix(try parsePrimary())]
                }
                node = Expression(kind: .test(node, name: name, arguments, negated: negated), location: location)
            } else {
                return node
            }
        }
    }

    private func startsPrimary() -> Bool {
        switch current.kind {
        case .name, .string, .integer, .float, .symbol("("), .symbol("["), .symbol("{"): return true
        default: return false
        }
    }

    private mutating func parseDottedName() throws(TemplateError) -> String {
        var name = try expectName()
        while isSymbol("."), case let .name(part) = peekKind() {
            index += 2
            name += "." + part
        }
        return name
    }
}
