/// The second stage: cuts normalized text into words that the model encodes one at a time
/// (`tokenizers.pre_tokenizers`).
///
/// | Python | Swift |
/// |---|---|
/// | `pre_tokenizers.ByteLevel(add_prefix_space=False)` | `.byteLevel(addPrefixSpace: false, useRegex: true)` |
/// | `pre_tokenizers.Split(Regex(r"…"), "isolated")` | `.split(pattern, .isolated, invert: false)` |
/// | `pre_tokenizers.Metaspace("▁", "first", split=False)` | `.metaspace(…)` |
/// | `pre_tokenizers.Digits(individual_digits=True)` | `.digits(individual: true)` |
indirect enum PreTokenizer: Sendable {
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    case split(SplitPattern, SplitBehavior, invert: Bool)
    case metaspace(replacement: Unicode.Scalar, prependScheme: PrependScheme, split: Bool)
    case digits(individual: Bool)
    case whitespace
    case whitespaceSplit
    case punctuation(SplitBehavior)
    case sequence([PreTokenizer])

    enum PrependScheme: String, Sendable { case always, first, never }

    init(config: JSONConfig) throws(TokenizerError) {
        let type = try config.type(component: "pre_tokenizer")
        switch type {
        case "ByteLevel":
            self = .byteLevel(
                addPrefixSpace: try config.bool("add_prefix_space", default: true),
                useRegex: try config.bool("use_regex", default: true))
        case "Split":
            let behaviorName = try config.required("behavior").asString()
            guard let behavior = SplitBehavior(rawValue: behaviorName) else {
                throw .malformed(path: config.path + ".behavior", reason: "unknown behavior \"\(behaviorName)\"")
            }
            self = .split(try patternFrom(config.required("pattern")), behavior, invert: try config.bool("invert", default: false))
        case "Metaspace":
            let replacement = try config.string("replacement", default: "▁")
            guard replacement.unicodeScalars.count == 1, let scalar = replacement.unicodeScalars.first else {
                throw .malformed(path: config.path + ".replacement", reason: "expected one character")
            }
            var scheme = PrependScheme.always
            if let name = try config.optionalString("prepend_scheme") {
                guard let parsed = PrependScheme(rawValue: name) else {
                    throw .malformed(path: config.path + ".prepend_scheme", reason: "unknown scheme \"\(name)\"")
                }
                scheme = parsed
            } else if let addPrefix = config["add_prefix_space"] {
                scheme = try addPrefix.asBool() ? .always : .never
            }
            self = .metaspace(replacement: scalar, prependScheme: scheme, split: try config.bool("split", default: true))
        case "Digits":
            self = .digits(individual: try config.bool("individual_digits", default: false))
        case "Whitespace":
            self = .whitespace
        case "WhitespaceSplit":
            self = .whitespaceSplit
        case "Punctuation":
            let name = try config.string("behavior", default: "Isolated")
            guard let behavior = SplitBehavior(rawValue: name) else {
                throw .malformed(path: config.path + ".behavior", reason: "unknown behavior \"\(name)\"")
            }
            self = .punctuation(behavior)
        case "Sequence":
            self = .sequence(try config.required("pretokenizers").asArray().map { (c) throws(TokenizerError) in try PreTokenizer(config: c) })
        default:
            throw .unsupported(component: "pre_tokenizer", type: type)
        }
    }

    func preTokenize(_ text: inout PreTokenizedString) {
        switch self {
        case let .byteLevel(addPrefixSpace, useRegex):
            if addPrefixSpace {
                text.rewrite { slice, _, out in
                    if !slice.isEmpty, slice.first != " " { out.append(" ") }
                    out.append(contentsOf: slice)
                }
            }
            if useRegex {
                text.split(behavior: .isolated) { buffer, range in SplitPattern.gpt2.matches(in: buffer, range: range) }
            }
            let alphabet = ByteLevelAlphabet.byteToScalar
            text.rewrite { slice, _, out in
                for scalar in slice {
                    let value = scalar.value
                    if value < 0x80 {
                        out.append(alphabet[Int(value)])
                    } else {
                        for byte in UTF8.encode(scalar)! { out.append(alphabet[Int(byte)]) }
                    }
                }
            }
        case let .split(pattern, behavior, invert):
            text.split(behavior: behavior, invert: invert) { buffer, range in pattern.matches(in: buffer, range: range) }
        case let .metaspace(replacement, scheme, split):
            text.rewrite { slice, piece, out in
                let prepend: Bool
                // Nothing is prepended to empty text.
                if slice.isEmpty { return }
                switch scheme {
                case .always: prepend = slice.first != replacement
                case .first: prepend = slice.first != replacement && piece.atStart
                case .never: prepend = false
                }
                // `tokenizers` replaces spaces first, so a leading space becomes the replacement itself.
                if prepend, slice.first != " " { out.append(replacement) }
                for scalar in slice { out.append(scalar == " " ? replacement : scalar) }
            }
            if split {
                text.split(behavior: .mergedWithNext) { buffer, range in
                    range.filter { buffer[$0] == replacement }.map { $0..<($0 + 1) }
                }
            }
        case let .digits(individual):
            text.split(behavior: individual ? .isolated : .contiguous) { buffer, range in
                range.filter { CharacterClass.isNumber(buffer[$0]) }.map { $0..<($0 + 1) }
            }
        case .whitespace:
            // `\w+|[^\w\s]+`, keeping the matches.
            text.split(behavior: .removed, invert: true) { buffer, range in
                var out: [Range<Int>] = []
                var i = range.lowerBound
                while i < range.upperBound {
                    let word = isWordScalar(buffer[i])
                    if !word, CharacterClass.isWhitespace(buffer[i]) { i += 1; continue }
                    var k = i + 1
                    while k < range.upperBound, isWordScalar(buffer[k]) == word, word || !CharacterClass.isWhitespace(buffer[k]) { k += 1 }
                    out.append(i..<k); i = k
                }
                return out
            }
        case .whitespaceSplit:
            text.split(behavior: .removed) { buffer, range in
                range.filter { CharacterClass.isWhitespace(buffer[$0]) }.map { $0..<($0 + 1) }
            }
        case let .punctuation(behavior):
            text.split(behavior: behavior) { buffer, range in
                range.filter { isPunctuationScalar(buffer[$0]) }.map { $0..<($0 + 1) }
            }
        case let .sequence(steps):
            for step in steps { step.preTokenize(&text) }
        }
    }
}

/// Regex `\w`: alphanumeric, marks, connector punctuation.
func isWordScalar(_ s: Unicode.Scalar) -> Bool {
    let flags = CharacterClass.flags(s)
    return flags & (CharacterClass.alphanumeric | CharacterClass.mark) != 0 || s.properties.generalCategory == .connectorPunctuation
}

/// `tokenizers`' `is_punc`: ASCII punctuation or Unicode P*.
func isPunctuationScalar(_ s: Unicode.Scalar) -> Bool {
    if s.isASCII {
        let v = s.value
        return (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v)
    }
    return CharacterClass.flags(s) & CharacterClass.punctuation != 0
}
