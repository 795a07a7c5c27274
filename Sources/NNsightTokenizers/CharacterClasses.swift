/// The Unicode classes the pre-tokenizer patterns use, as the `onig` regex engine behind
/// Hugging Face `tokenizers` defines them:
/// `\p{L}` (general category L*), `\p{N}` (N*), `\s` (the White_Space property), `\p{M}` (M*).
///
/// Looking up `Unicode.Scalar.Properties` for every character is slow, so the Basic
/// Multilingual Plane is tabulated once; other planes are looked up directly.
enum CharacterClass {
    static let letter: UInt8 = 1
    static let number: UInt8 = 2
    static let whitespace: UInt8 = 4
    static let mark: UInt8 = 8
    /// Rust's `char::is_alphanumeric` (Alphabetic or Numeric); used by `\w`-like checks.
    static let alphanumeric: UInt8 = 16
    /// Unicode punctuation (general category P*), for the `Punctuation` pre-tokenizer.
    static let punctuation: UInt8 = 32

    private static let bmp: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 0x10000)
        for value in 0..<0x10000 {
            if let scalar = Unicode.Scalar(UInt32(value)) { table[value] = compute(scalar) }
        }
        return table
    }()

    static func compute(_ scalar: Unicode.Scalar) -> UInt8 {
        let properties = scalar.properties
        var flags: UInt8 = 0
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            flags |= letter
        case .decimalNumber, .letterNumber, .otherNumber:
            flags |= number
        case .nonspacingMark, .spacingMark, .enclosingMark:
            flags |= mark
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            flags |= punctuation
        default:
            break
        }
        if properties.isWhitespace { flags |= whitespace }
        if properties.isAlphabetic || flags & number != 0 { flags |= alphanumeric }
        return flags
    }

    @inline(__always)
    static func flags(_ scalar: Unicode.Scalar) -> UInt8 {
        let value = scalar.value
        return value < 0x10000 ? bmp[Int(value)] : compute(scalar)
    }

    @inline(__always) static func isLetter(_ s: Unicode.Scalar) -> Bool { flags(s) & letter != 0 }
    @inline(__always) static func isNumber(_ s: Unicode.Scalar) -> Bool { flags(s) & number != 0 }
    @inline(__always) static func isWhitespace(_ s: Unicode.Scalar) -> Bool { flags(s) & whitespace != 0 }
    /// Neither whitespace, letter nor number: `[^\s\p{L}\p{N}]`.
    @inline(__always) static func isOther(_ s: Unicode.Scalar) -> Bool { flags(s) & (letter | number | whitespace) == 0 }
}
