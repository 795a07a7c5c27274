/// Expressions, with jinja2's precedence from loosest to tightest: conditional `if`/`else`, `or`,
/// `and`, `not`, comparisons (`==`, `in`, `not in`, …), `+`/`-`, `~`, `*`/`/`/`//`/`%`, `**`, unary
/// `-`/`+`, then postfix access (`.name`, `[index]`, `[a:b:c]`, calls) and filters and tests.
extension TemplateParser {
    /// An expression, or several separated by commas (a tuple, made a list here).
    mutating func parseTupleOrExpression(allowConditional: Bool = true) throws(TemplateError) -> Expression {
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

    mutating func parseOr() throws(TemplateError) -> Expression {
        var left = try parseAnd()
        while isName("or") {
            let location = next().location
            left = Expression(kind: .or(left, try parseAnd()), location: location)
        }
        return left
    }

    mutating func parseAnd() throws(TemplateError) -> Expression {
        var left = try parseNot()
        while isName("and") {
            let location = next().location
            left = Expression(kind: .and(left, try parseNot()), location: location)
        }
        return left
    }

    mutating func parseNot() throws(TemplateError) -> Expression {
        if isName("not") {
            let location = next().location
            try deeper(location)
            defer { nesting -= 1 }
            return Expression(kind: .unary("not", try parseNot()), location: location)
        }
        return try parseCompare()
    }

    mutating func parseCompare() throws(TemplateError) -> Expression {
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

    mutating func parseMath1() throws(TemplateError) -> Expression {
        var left = try parseConcat()
        while case let .symbol(symbol) = current.kind, symbol == "+" || symbol == "-" {
            let location = next().location
            left = Expression(kind: .binary(symbol, left, try parseConcat()), location: location)
        }
        return left
    }

    mutating func parseConcat() throws(TemplateError) -> Expression {
        var left = try parseMath2()
        while isSymbol("~") {
            let location = next().location
            left = Expression(kind: .binary("~", left, try parseMath2()), location: location)
        }
        return left
    }

    mutating func parseMath2() throws(TemplateError) -> Expression {
        var left = try parsePow()
        while case let .symbol(symbol) = current.kind, ["*", "/", "//", "%"].contains(symbol) {
            let location = next().location
            left = Expression(kind: .binary(symbol, left, try parsePow()), location: location)
        }
        return left
    }

    mutating func parsePow() throws(TemplateError) -> Expression {
        var left = try parseUnary()
        while isSymbol("**") {
            let location = next().location
            left = Expression(kind: .binary("**", left, try parseUnary()), location: location)
        }
        return left
    }

    mutating func parseUnary(withFilter: Bool = true) throws(TemplateError) -> Expression {
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

    mutating func parsePrimary() throws(TemplateError) -> Expression {
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

    mutating func parsePostfix(_ base: Expression) throws(TemplateError) -> Expression {
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

    mutating func parseSubscript(_ base: Expression, location: SourceLocation) throws(TemplateError) -> Expression {
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

    mutating func parseCallArguments() throws(TemplateError) -> Arguments {
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

    mutating func parseFilterAndTest(_ base: Expression) throws(TemplateError) -> Expression {
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

    func startsPrimary() -> Bool {
        switch current.kind {
        case .name, .string, .integer, .float, .symbol("("), .symbol("["), .symbol("{"): return true
        default: return false
        }
    }

    mutating func parseDottedName() throws(TemplateError) -> String {
        var name = try expectName()
        while isSymbol("."), case let .name(part) = peekKind() {
            index += 2
            name += "." + part
        }
        return name
    }
}
