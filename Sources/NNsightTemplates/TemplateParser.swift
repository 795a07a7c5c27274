/// Builds the statements of a template from its tokens, with jinja2's grammar and operator
/// precedence (filters and `is` tests bind tighter than arithmetic: `'a' + x | trim` trims `x`).
struct TemplateParser {
    let tokens: [Token]
    var index = 0
    /// How deep expressions and blocks nest while parsing; deeper than ``maximumNesting`` is a
    /// syntax error rather than a stack overflow.
    var nesting = 0
    static let maximumNesting = 100

    mutating func deeper(_ location: SourceLocation) throws(TemplateError) {
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

    var current: Token { tokens[index] }
    func peekKind(_ offset: Int = 1) -> Token.Kind { tokens[min(index + offset, tokens.count - 1)].kind }
    mutating func next() -> Token {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    func isSymbol(_ symbol: String) -> Bool { current.kind == .symbol(symbol) }
    func isName(_ name: String) -> Bool { current.kind == .name(name) }

    mutating func skipSymbol(_ symbol: String) -> Bool {
        guard isSymbol(symbol) else { return false }
        index += 1
        return true
    }

    mutating func skipName(_ name: String) -> Bool {
        guard isName(name) else { return false }
        index += 1
        return true
    }

    mutating func expectSymbol(_ symbol: String) throws(TemplateError) {
        guard skipSymbol(symbol) else { throw unexpected(expected: "'\(symbol)'") }
    }

    mutating func expectName() throws(TemplateError) -> String {
        guard case let .name(name) = current.kind else { throw unexpected(expected: "a name") }
        index += 1
        return name
    }

    mutating func expectBlockEnd() throws(TemplateError) {
        guard current.kind == .blockEnd else { throw unexpected(expected: "end of statement block") }
        index += 1
    }

    func describe(_ kind: Token.Kind) -> String {
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

    func unexpected(expected: String) -> TemplateError {
        current.location.syntax("expected \(expected), got \(describe(current.kind))")
    }

    // MARK: Statements

    /// The tag that ended a body: its name and where it is (the `{%` has been read).
    struct Stop { let name: String; let location: SourceLocation }

    /// Parses statements up to a block tag whose name is in `stops` (left unread after its name),
    /// or the end of the template when `stops` is empty.
    mutating func parseBody(until stops: Set<String>) throws(TemplateError) -> ([Node], Stop?) {
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

    mutating func parseStatement(startingAt location: SourceLocation) throws(TemplateError) -> Node {
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

    mutating func parseIf(_ location: SourceLocation) throws(TemplateError) -> Node {
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

    mutating func parseFor(_ location: SourceLocation) throws(TemplateError) -> Node {
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

    mutating func parseSet(_ location: SourceLocation) throws(TemplateError) -> Node {
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

    mutating func parseMacro(_ location: SourceLocation) throws(TemplateError) -> Node {
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
}
