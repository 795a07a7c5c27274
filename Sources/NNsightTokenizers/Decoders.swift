/// Turns tokens back into text (`tokenizers.decoders`). Each decoder maps a list of token
/// strings to a new list; the results are concatenated at the end.
///
/// | Python | Swift |
/// |---|---|
/// | `decoders.ByteLevel()` | `.byteLevel` |
/// | `decoders.Metaspace("▁", "first")` | `.metaspace(…)` |
/// | `decoders.Sequence([Replace("▁", " "), ByteFallback(), Fuse(), Strip(" ", 1, 0)])` | `.sequence([…])` |
indirect enum Decoder: Sendable {
    case byteLevel
    case metaspace(replacement: Unicode.Scalar, prependScheme: PreTokenizer.PrependScheme)
    case byteFallback
    case fuse
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    case replace(SplitPattern, String)
    case wordPiece(prefix: String, cleanup: Bool)
    case bpe(suffix: String)
    case sequence([Decoder])

    init(config: JSONConfig) throws(TokenizerError) {
        let type = try config.type(component: "decoder")
        switch type {
        case "ByteLevel": self = .byteLevel
        case "ByteFallback": self = .byteFallback
        case "Fuse": self = .fuse
        case "Metaspace":
            let replacement = try config.string("replacement", default: "▁")
            guard replacement.unicodeScalars.count == 1, let scalar = replacement.unicodeScalars.first else {
                throw .malformed(path: config.path + ".replacement", reason: "expected one character")
            }
            var scheme = PreTokenizer.PrependScheme.always
            if let name = try config.optionalString("prepend_scheme") {
                guard let parsed = PreTokenizer.PrependScheme(rawValue: name) else {
                    throw .malformed(path: config.path + ".prepend_scheme", reason: "unknown scheme \"\(name)\"")
                }
                scheme = parsed
            } else if let addPrefix = config["add_prefix_space"] {
                scheme = try addPrefix.asBool() ? .always : .never
            }
            self = .metaspace(replacement: scalar, prependScheme: scheme)
        case "Strip":
            let content = try config.string("content", default: " ")
            guard content.unicodeScalars.count == 1, let scalar = content.unicodeScalars.first else {
                throw .malformed(path: config.path + ".content", reason: "expected one character")
            }
            self = .strip(content: scalar, start: try config.int("start", default: 0), stop: try config.int("stop", default: 0))
        case "Replace":
            self = .replace(try patternFrom(config.required("pattern")), try config.required("content").asString())
        case "WordPiece":
            self = .wordPiece(prefix: try config.string("prefix", default: "##"), cleanup: try config.bool("cleanup", default: true))
        case "BPEDecoder":
            self = .bpe(suffix: try config.string("suffix", default: "</w>"))
        case "Sequence":
            self = .sequence(try config.required("decoders").asArray().map { (c) throws(TokenizerError) in try Decoder(config: c) })
        default:
            throw .unsupported(component: "decoder", type: type)
        }
    }

    func decodeChain(_ tokens: [String]) -> [String] {
        switch self {
        case .byteLevel:
            var bytes: [UInt8] = []
            for token in tokens {
                if let tokenBytes = ByteLevelAlphabet.bytes(of: token) {
                    bytes.append(contentsOf: tokenBytes)
                } else {
                    bytes.append(contentsOf: token.utf8)
                }
            }
            return [String(decoding: bytes, as: UTF8.self)]
        case let .metaspace(replacement, scheme):
            return tokens.enumerated().map { index, token in
                var view = String.UnicodeScalarView()
                for scalar in token.unicodeScalars {
                    if scalar == replacement {
                        if index == 0, scheme != .never { continue }
                        view.append(" ")
                    } else {
                        view.append(scalar)
                    }
                }
                return String(view)
            }
        case .byteFallback:
            var result: [String] = []
            var pending: [UInt8] = []
            func flush() {
                guard !pending.isEmpty else { return }
                if let string = validUTF8(pending) {
                    result.append(string)
                } else {
                    for _ in pending { result.append("\u{FFFD}") }
                }
                pending.removeAll()
            }
            for token in tokens {
                if let byte = Self.fallbackByte(token) {
                    pending.append(byte)
                } else {
                    flush()
                    result.append(token)
                }
            }
            flush()
            return result
        case .fuse:
            return [tokens.joined()]
        case let .strip(content, start, stop):
            return tokens.map { token in
                var scalars = Array(token.unicodeScalars)
                var removedLeft = 0
                while removedLeft < start, removedLeft < scalars.count, scalars[removedLeft] == content { removedLeft += 1 }
                var end = scalars.count
                var removedRight = 0
                while removedRight < stop, end > removedLeft, scalars[end - 1] == content { end -= 1; removedRight += 1 }
                scalars = Array(scalars[removedLeft..<end])
                var view = String.UnicodeScalarView()
                view.append(contentsOf: scalars)
                return String(view)
            }
        case let .replace(pattern, content):
            return tokens.map { replaceAll($0, pattern, content) }
        case let .wordPiece(prefix, cleanup):
            return tokens.enumerated().map { index, token in
                var text = token
                if index > 0 {
                    if text.hasPrefix(prefix) { text = String(text.dropFirst(prefix.count)) } else { text = " " + text }
                }
                return cleanup ? cleanupTokenization(text) : text
            }
        case let .bpe(suffix):
            return tokens.enumerated().map { index, token in
                token.replacingOccurrences(of: suffix, with: index == tokens.count - 1 ? "" : " ")
            }
        case let .sequence(steps):
            return steps.reduce(tokens) { $1.decodeChain($0) }
        }
    }

    /// The byte of a `<0xAB>` token.
    static func fallbackByte(_ token: String) -> UInt8? {
        let utf8 = Array(token.utf8)
        guard utf8.count == 6, utf8[0] == UInt8(ascii: "<"), utf8[1] == UInt8(ascii: "0"), utf8[2] == UInt8(ascii: "x"),
              utf8[5] == UInt8(ascii: ">")
        else { return nil }
        return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
    }
}

/// `tokenizers`' `cleanup` for WordPiece: removes spaces before punctuation and in contractions.
func cleanupTokenization(_ text: String) -> String {
    var result = text
    for (from, to) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
                       (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
        result = result.replacingOccurrences(of: from, with: to)
    }
    return result
}

/// The string for `bytes` when they are valid UTF-8, else nil.
func validUTF8(_ bytes: [UInt8]) -> String? {
    let string = String(decoding: bytes, as: UTF8.self)
    return string.utf8.elementsEqual(bytes) ? string : nil
}
