/// The JSON of the small messages every access exchanges (`read`, `value` headers, `ack`,
/// `start`, `status`, …), written and read by hand: JSONEncoder and JSONDecoder cost several
/// microseconds per message, a visible part of a read's round trip. A message with any other
/// field, and any text this reader does not fully understand, goes through JSONEncoder and
/// JSONDecoder instead, so the wire format and what is accepted stay exactly theirs.
enum WireMessageJSON {
    // MARK: Writing

    /// The JSON of `message` (keys sorted, absent fields left out, as `WireFrame.encoder`
    /// writes it), or nil when it carries a field beyond an access's.
    static func encode(_ message: WireMessage) -> [UInt8]? {
        var access = WireMessage(kind: message.kind, trace: message.trace, invoke: message.invoke)
        access.path = message.path
        access.key = message.key
        access.mode = message.mode
        access.count = message.count
        access.step = message.step
        access.began = message.began
        access.stopped = message.stopped
        access.state = message.state
        access.position = message.position
        access.sharedWith = message.sharedWith
        access.tensor = message.tensor
        // Equal only when no other field is set (new fields take part in `==` automatically).
        guard access == message else { return nil }
        var out = JSONWriter()
        out.bytes.reserveCapacity(128)
        out.open()
        if let began = message.began { out.key("began"); out.bool(began) }
        if let count = message.count { out.key("count"); out.int(count) }
        if let invoke = message.invoke { out.key("invoke"); out.int(invoke) }
        if let key = message.key { out.key("key"); out.string(key.rawValue) }
        out.key("kind"); out.string(message.kind.rawValue)
        if let mode = message.mode { out.key("mode"); out.string(mode.rawValue) }
        if let path = message.path { out.key("path"); out.string(path) }
        if let position = message.position { out.key("position"); out.int(position) }
        if let sharedWith = message.sharedWith { out.key("sharedWith"); out.int(sharedWith) }
        if let state = message.state { out.key("state"); out.string(state.rawValue) }
        if let step = message.step { out.key("step"); out.int(step) }
        if let stopped = message.stopped { out.key("stopped"); out.bool(stopped) }
        if let tensor = message.tensor {
            out.key("tensor")
            out.open()
            out.key("dtype"); out.string(tensor.dtype)
            if let meta = tensor.meta { out.key("meta"); out.bool(meta) }
            out.key("shape"); out.ints(tensor.shape)
            out.close()
        }
        if let trace = message.trace { out.key("trace"); out.int(trace) }
        out.close()
        return out.bytes
    }

    private struct JSONWriter {
        var bytes: [UInt8] = []
        private var first = true

        mutating func open() {
            bytes.append(UInt8(ascii: "{"))
            first = true
        }

        mutating func close() {
            bytes.append(UInt8(ascii: "}"))
            first = false
        }

        mutating func key(_ name: StaticString) {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            bytes.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }

        mutating func int(_ value: Int) { bytes.append(contentsOf: String(value).utf8) }

        mutating func bool(_ value: Bool) { bytes.append(contentsOf: (value ? "true" : "false").utf8) }

        mutating func ints(_ values: [Int]) {
            bytes.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                int(value)
            }
            bytes.append(UInt8(ascii: "]"))
        }

        /// A JSON string: quote, backslash and control characters escaped, the rest as UTF-8.
        mutating func string(_ value: String) {
            bytes.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
                case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case 0..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                              hex[Int(byte >> 4)], hex[Int(byte & 0xf)]])
                default: bytes.append(byte)
                }
            }
            bytes.append(UInt8(ascii: "\""))
        }
    }

    // MARK: Reading

    /// The message in `bytes` when it is an object of an access's fields only, with plain values
    /// (strings without escapes, integers, booleans); nil for anything else, which JSONDecoder
    /// then reads (or refuses).
    static func decode(_ bytes: UnsafeRawBufferPointer) -> WireMessage? {
        var reader = JSONReader(bytes: bytes)
        guard let message = reader.message(), reader.atEnd() else { return nil }
        return message
    }

    private struct JSONReader {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        mutating func skipSpace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0a || bytes[index] == 0x0d || bytes[index] == 0x09 {
                index += 1
            }
        }

        mutating func atEnd() -> Bool {
            skipSpace()
            return index == bytes.count
        }

        mutating func consume(_ ascii: Unicode.Scalar) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ascii) else { return false }
            index += 1
            return true
        }

        /// A string without escapes or control characters, valid UTF-8.
        mutating func string() -> String? {
            guard consume("\"") else { return nil }
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    defer { index += 1 }
                    return String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
                index += 1
            }
            return nil
        }

        /// An integer as JSON writes it (no leading zeros, no fraction or exponent), within Int.
        mutating func int() -> Int? {
            skipSpace()
            var negative = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
                negative = true
                index += 1
            }
            let start = index
            var value = 0
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                let digit = Int(bytes[index] - UInt8(ascii: "0"))
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
                guard !overflow1, !overflow2 else { return nil }
                value = sum
                index += 1
            }
            let digits = index - start
            guard digits > 0, !(digits > 1 && bytes[start] == UInt8(ascii: "0")), !(negative && value == 0) else { return nil }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") || bytes[index] | 0x20 == UInt8(ascii: "e") { return nil }
            return value
        }

        mutating func bool() -> Bool? {
            skipSpace()
            for (word, value) in [("true", true), ("false", false)] {
                let utf8 = Array(word.utf8)
                if bytes.count - index >= utf8.count, zip(utf8, bytes[index..<(index + utf8.count)]).allSatisfy({ $0 == $1 }) {
                    index += utf8.count
                    return value
                }
            }
            return nil
        }

        mutating func ints() -> [Int]? {
            guard consume("[") else { return nil }
            var values: [Int] = []
            if consume("]") { return values }
            repeat {
                guard let value = int() else { return nil }
                values.append(value)
            } while consume(",")
            return consume("]") ? values : nil
        }

        /// Reads `{ "key": value, … }`, handing each key to `field`, which reads its value (false:
        /// not understood). Every key at most once.
        mutating func object(_ field: (inout JSONReader, String) -> Bool) -> Bool {
            guard consume("{") else { return false }
            if consume("}") { return true }
            var seen: Set<String> = []
            repeat {
                guard let key = string(), seen.insert(key).inserted, consume(":"), field(&self, key) else { return false }
            } while consume(",")
            return consume("}")
        }

        mutating func message() -> WireMessage? {
            var message = WireMessage(kind: .hello)
            var hasKind = false
            let understood = object { reader, key in
                switch key {
                case "kind":
                    guard let kind = reader.string().flatMap(MessageKind.init(rawValue:)) else { return false }
                    message.kind = kind
                    hasKind = true
                case "trace": message.trace = reader.int(); return message.trace != nil
                case "invoke": message.invoke = reader.int(); return message.invoke != nil
                case "count": message.count = reader.int(); return message.count != nil
                case "step": message.step = reader.int(); return message.step != nil
                case "position": message.position = reader.int(); return message.position != nil
                case "sharedWith": message.sharedWith = reader.int(); return message.sharedWith != nil
                case "path": message.path = reader.string(); return message.path != nil
                case "key": message.key = reader.string().flatMap(WireValueKey.init(rawValue:)); return message.key != nil
                case "mode": message.mode = reader.string().flatMap(WriteMode.init(rawValue:)); return message.mode != nil
                case "state": message.state = reader.string().flatMap(TraceState.init(rawValue:)); return message.state != nil
                case "began": message.began = reader.bool(); return message.began != nil
                case "stopped": message.stopped = reader.bool(); return message.stopped != nil
                case "tensor": message.tensor = reader.tensorHeader(); return message.tensor != nil
                default: return false
                }
                return true
            }
            return understood && hasKind ? message : nil
        }

        mutating func tensorHeader() -> TensorHeader? {
            var dtype: String?
            var shape: [Int]?
            var meta: Bool?
            let understood = object { reader, key in
                switch key {
                case "dtype": dtype = reader.string(); return dtype != nil
                case "shape": shape = reader.ints(); return shape != nil
                case "meta": meta = reader.bool(); return meta != nil
                default: return false
                }
            }
            guard understood, let dtype, let shape else { return nil }
            return TensorHeader(dtype: dtype, shape: shape, meta: meta)
        }
    }
}
