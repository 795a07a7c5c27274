import Foundation

/// The global functions transformers gives chat templates (`raise_exception`, `strftime_now`,
/// `namespace`, `dict`) and jinja2's `range`.
enum Builtins {
    static let functions: Set<String> = ["raise_exception", "strftime_now", "namespace", "dict", "range"]

    static func call(_ name: String, _ positional: [TemplateValue], _ keyword: [(String, TemplateValue)],
                     renderer: TemplateRenderer, at location: SourceLocation) throws(TemplateError) -> TemplateValue {
        var arguments = ArgumentList(positional: positional, keyword: keyword, function: name, location: location)
        switch name {
        case "raise_exception":
            let message = try arguments.required("message")
            try arguments.finish()
            throw .raised(message: Python.str(message), line: location.line, column: location.column)
        case "strftime_now":
            guard let format = try arguments.optionalString("format") else { throw location.runtime("strftime_now() missing required argument 'format'") }
            try arguments.finish()
            return .string(strftime(format, renderer.now))
        case "namespace", "dict":
            var attributes = TemplateDictionary()
            for value in arguments.rest() {
                guard case let .dictionary(initial) = value else { throw location.runtime("\(name)() takes a dictionary or keyword arguments") }
                for (key, item) in initial.items { attributes[key] = item }
            }
            for (key, value) in arguments.restKeywords() {
                if name == "namespace" && key.hasPrefix("_") {
                    throw location.runtime("Chat templates cannot store underscore-prefixed attributes on a namespace, but got '\(key)'.")
                }
                attributes[key] = value
            }
            if name == "dict" { return .dictionary(attributes) }
            let namespace = TemplateNamespace(attributes)
            renderer.arena.keep(namespace)
            return .namespace(namespace)
        default:
            let bounds = arguments.rest()
            try arguments.finish()
            var integers: [Int] = []
            for bound in bounds {
                guard let value = TemplateRenderer.integer(bound) else { throw location.runtime("range() arguments must be integers") }
                integers.append(value)
            }
            let (start, stop, step): (Int, Int, Int)
            switch integers.count {
            case 1: (start, stop, step) = (0, integers[0], 1)
            case 2: (start, stop, step) = (integers[0], integers[1], 1)
            case 3: (start, stop, step) = (integers[0], integers[1], integers[2])
            default: throw location.runtime("range expected 1 to 3 arguments, got \(integers.count)")
            }
            guard step != 0 else { throw location.runtime("range() arg 3 must not be zero") }
            let span = (Double(stop) - Double(start)) / Double(step)
            guard span <= 100_000 else { throw location.runtime("range too big, maximum size for range is 100000") }
            let values = Array(stride(from: start, to: stop, by: step))
            return .array(values.map { .int($0) })
        }
    }

    /// Python's `datetime.now().strftime(format)` in the local time zone, for the directives
    /// chat templates use (C locale names).
    static func strftime(_ format: String, _ date: Date) -> String {
        let calendar = Calendar(identifier: .gregorian)
        let parts = calendar.dateComponents(in: TimeZone.current, from: date)
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        func padded(_ value: Int, _ width: Int = 2) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let year = parts.year ?? 1970, month = parts.month ?? 1, day = parts.day ?? 1
        let hour = parts.hour ?? 0, minute = parts.minute ?? 0, second = parts.second ?? 0
        let weekday = (parts.weekday ?? 1) - 1
        let dayOfYear = calendar.ordinality(of: .day, in: .year, for: date) ?? 1
        var out = ""
        var iterator = format.makeIterator()
        while let character = iterator.next() {
            guard character == "%", let directive = iterator.next() else {
                out.append(character)
                continue
            }
            switch directive {
            case "d": out += padded(day)
            case "m": out += padded(month)
            case "Y": out += String(year)
            case "y": out += padded(year % 100)
            case "b": out += String(months[month - 1].prefix(3))
            case "B": out += months[month - 1]
            case "a": out += String(days[weekday].prefix(3))
            case "A": out += days[weekday]
            case "H": out += padded(hour)
            case "I": out += padded(hour % 12 == 0 ? 12 : hour % 12)
            case "p": out += hour < 12 ? "AM" : "PM"
            case "M": out += padded(minute)
            case "S": out += padded(second)
            case "j": out += padded(dayOfYear, 3)
            case "e": out += (day < 10 ? " " : "") + String(day)
            case "%": out += "%"
            default: out += "%" + String(directive)
            }
        }
        return out
    }
}
