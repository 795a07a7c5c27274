import Foundation

/// The first stage of the pipeline: rewrites text before it is split (`tokenizers.normalizers`).
///
/// | Python | Swift |
/// |---|---|
/// | `normalizers.NFC()` | `.nfc` |
/// | `normalizers.Replace(" ", "▁")` | `.replace(.literal(" "), "▁")` |
/// | `normalizers.Sequence([...])` | `.sequence([...])` |
indirect enum Normalizer: Sendable {
    case nfc, nfd, nfkc, nfkd
    case lowercase
    case prepend(String)
    case replace(SplitPattern, String)
    case strip(left: Bool, right: Bool)
    case stripAccents
    case sequence([Normalizer])

    init(config: JSONConfig) throws(TokenizerError) {
        let type = try config.type(component: "normalizer")
        switch type {
        case "NFC": self = .nfc
        case "NFD": self = .nfd
        case "NFKC": self = .nfkc
        case "NFKD": self = .nfkd
        case "Lowercase": self = .lowercase
        case "StripAccents": self = .stripAccents
        case "Prepend": self = .prepend(try config.required("prepend").asString())
        case "Replace":
            self = .replace(try patternFrom(config.required("pattern")), try config.required("content").asString())
        case "Strip":
            self = .strip(left: try config.bool("strip_left", default: true), right: try config.bool("strip_right", default: true))
        case "Sequence":
            self = .sequence(try config.required("normalizers").asArray().map { (c) throws(TokenizerError) in try Normalizer(config: c) })
        default:
            throw .unsupported(component: "normalizer", type: type)
        }
    }

    func normalize(_ text: String) -> String {
        switch self {
        case .nfc: return text.precomposedStringWithCanonicalMapping
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .nfkc: return text.precomposedStringWithCompatibilityMapping
        case .nfkd: return text.decomposedStringWithCompatibilityMapping
        case .lowercase: return text.lowercased()
        case let .prepend(prefix): return text.isEmpty ? text : prefix + text
        case let .replace(pattern, content): return replaceAll(text, pattern, content)
        case let .strip(left, right):
            var scalars = Array(text.unicodeScalars)
            if right { while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() } }
            var start = 0
            if left { while start < scalars.count, scalars[start].properties.isWhitespace { start += 1 } }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[start...])
            return String(view)
        case .stripAccents:
            var view = String.UnicodeScalarView()
            view.append(contentsOf: text.unicodeScalars.filter { $0.properties.generalCategory != .nonspacingMark })
            return String(view)
        case let .sequence(normalizers):
            return normalizers.reduce(text) { $1.normalize($0) }
        }
    }
}

/// `{"String": "…"}` or `{"Regex": "…"}`.
func patternFrom(_ config: JSONConfig) throws(TokenizerError) -> SplitPattern {
    if let literal = config["String"] { return .literal(Array(try literal.asString().unicodeScalars)) }
    if let regex = config["Regex"] { return try SplitPattern.regex(try regex.asString(), path: regex.path) }
    throw config.malformed("expected {\"String\": …} or {\"Regex\": …}")
}

/// Replaces every match of `pattern` in `text` with `content`.
func replaceAll(_ text: String, _ pattern: SplitPattern, _ content: String) -> String {
    let scalars = Array(text.unicodeScalars)
    let matches = scalars.withUnsafeBufferPointer { pattern.matches(in: $0, range: 0..<scalars.count) }
    if matches.isEmpty { return text }
    var view = String.UnicodeScalarView()
    var previous = 0
    for match in matches {
        view.append(contentsOf: scalars[previous..<match.lowerBound])
        view.append(contentsOf: content.unicodeScalars)
        previous = match.upperBound
    }
    view.append(contentsOf: scalars[previous...])
    return String(view)
}
