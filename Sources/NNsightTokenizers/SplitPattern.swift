import Foundation

/// A pattern that finds split points in text: a literal string, one of the well-known
/// pre-tokenizer regexes (matched by hand-written linear scanners), or any other regex
/// (matched by `NSRegularExpression`).
///
/// The scanners reproduce the regexes exactly as the `onig` engine in `tokenizers` runs them,
/// backtracking included (`\s+(?!\S)` leaves the last space of a run for the next word).
///
/// Checked `Sendable`: the cases hold values and an `NSRegularExpression`, which is immutable
/// and documented safe to match from several threads at once.
enum SplitPattern: Sendable {
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` (GPT-2, ByteLevel's default).
    case gpt2
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    /// (Llama 3; with `maxDigits: 1`, Qwen 2's `\p{N}`).
    case llama3(maxDigits: Int)
    /// A literal string (`{"String": "…"}` in `tokenizer.json`).
    case literal([Unicode.Scalar])
    /// Any other regex.
    case regex(NSRegularExpression)

    static let gpt2Source = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Source =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Source =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The pattern for a regex source: a scanner when the source is a known one.
    static func regex(_ source: String, path: String) throws(TokenizerError) -> SplitPattern {
        switch source {
        case gpt2Source: return .gpt2
        case llama3Source: return .llama3(maxDigits: 3)
        case qwen2Source: return .llama3(maxDigits: 1)
        default:
            do {
                return .regex(try NSRegularExpression(pattern: source, options: []))
            } catch {
                throw .malformed(path: path, reason: "invalid regex \(source): \(error)")
            }
        }
    }

    /// The match ranges inside `range` of `text`, leftmost first, non-overlapping.
    func matches(in text: UnsafeBufferPointer<Unicode.Scalar>, range: Range<Int>) -> [Range<Int>] {
        var result: [Range<Int>] = []
        switch self {
        case .gpt2: Self.scanGPT2(text, range, &result)
        case let .llama3(maxDigits): Self.scanLlama3(text, range, maxDigits: maxDigits, &result)
        case let .literal(needle): Self.scanLiteral(text, range, needle, &result)
        case let .regex(regex): Self.scanRegex(regex, text, range, &result)
        }
        return result
    }

    // MARK: Scanners

    @inline(__always)
    private static func isContractionLetter(_ s: Unicode.Scalar, caseInsensitive: Bool) -> Int {
        // 1: a one-letter contraction ('s 't 'm 'd).
        switch s {
        case "s", "t", "m", "d": return 1
        case "S", "T", "M", "D": return caseInsensitive ? 1 : 0
        default: return 0
        }
    }

    /// The length of a contraction at `i` (`'s`, `'re`, …), or 0.
    @inline(__always)
    private static func contraction(_ t: UnsafeBufferPointer<Unicode.Scalar>, _ i: Int, _ end: Int, caseInsensitive: Bool) -> Int {
        guard t[i] == "'", i + 1 < end else { return 0 }
        let a = t[i + 1]
        if isContractionLetter(a, caseInsensitive: caseInsensitive) == 1 { return 2 }
        guard i + 2 < end else { return 0 }
        let b = t[i + 2]
        func eq(_ x: Unicode.Scalar, _ lower: Unicode.Scalar) -> Bool {
            x == lower || (caseInsensitive && x.value == lower.value - 32)
        }
        if (eq(a, "r") && eq(b, "e")) || (eq(a, "v") && eq(b, "e")) || (eq(a, "l") && eq(b, "l")) { return 3 }
        return 0
    }

    /// Whitespace at `i`: `\s+(?!\S)|\s+` — a run, less its last character when a non-space follows.
    @inline(__always)
    private static func whitespaceRun(_ t: UnsafeBufferPointer<Unicode.Scalar>, _ i: Int, _ end: Int) -> Int {
        var k = i + 1
        while k < end, CharacterClass.isWhitespace(t[k]) { k += 1 }
        if k < end, k - i >= 2 { return k - 1 }
        return k
    }

    static func scanGPT2(_ t: UnsafeBufferPointer<Unicode.Scalar>, _ range: Range<Int>, _ out: inout [Range<Int>]) {
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let c = t[i]
            let contractionLength = contraction(t, i, end, caseInsensitive: false)
            if contractionLength > 0 {
                out.append(i..<(i + contractionLength)); i += contractionLength; continue
            }
            let j = (c == " " && i + 1 < end) ? i + 1 : i
            let first = CharacterClass.flags(t[j])
            if j == i + 1 || c != " " {
                if first & CharacterClass.letter != 0 {
                    var k = j + 1
                    while k < end, CharacterClass.isLetter(t[k]) { k += 1 }
                    out.append(i..<k); i = k; continue
                }
                if first & CharacterClass.number != 0 {
                    var k = j + 1
                    while k < end, CharacterClass.isNumber(t[k]) { k += 1 }
                    out.append(i..<k); i = k; continue
                }
                if first & (CharacterClass.letter | CharacterClass.number | CharacterClass.whitespace) == 0 {
                    var k = j + 1
                    while k < end, CharacterClass.isOther(t[k]) { k += 1 }
                    out.append(i..<k); i = k; continue
                }
            }
            // Whitespace (c is whitespace here).
            let k = whitespaceRun(t, i, end)
            out.append(i..<k); i = k
        }
    }

    static func scanLlama3(_ t: UnsafeBufferPointer<Unicode.Scalar>, _ range: Range<Int>, maxDigits: Int, _ out: inout [Range<Int>]) {
        var i = range.lowerBound
        let end = range.upperBound
        while i < end {
            let c = t[i]
            let contractionLength = contraction(t, i, end, caseInsensitive: true)
            if contractionLength > 0 {
                out.append(i..<(i + contractionLength)); i += contractionLength; continue
            }
            let flags = CharacterClass.flags(c)
            let isNewline = c == "\r" || c == "\n"
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if flags & CharacterClass.letter != 0 {
                var k = i + 1
                while k < end, CharacterClass.isLetter(t[k]) { k += 1 }
                out.append(i..<k); i = k; continue
            }
            if !isNewline, flags & CharacterClass.number == 0, i + 1 < end, CharacterClass.isLetter(t[i + 1]) {
                var k = i + 2
                while k < end, CharacterClass.isLetter(t[k]) { k += 1 }
                out.append(i..<k); i = k; continue
            }
            // \p{N}{1,maxDigits}
            if flags & CharacterClass.number != 0 {
                var k = i + 1
                while k < end, k - i < maxDigits, CharacterClass.isNumber(t[k]) { k += 1 }
                out.append(i..<k); i = k; continue
            }
            // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
            let j = (c == " " && i + 1 < end) ? i + 1 : i
            if (j == i + 1 || c != " "), CharacterClass.isOther(t[j]) {
                var k = j + 1
                while k < end, CharacterClass.isOther(t[k]) { k += 1 }
                while k < end, t[k] == "\r" || t[k] == "\n" { k += 1 }
                out.append(i..<k); i = k; continue
            }
            // c is whitespace. `\s*[\r\n]+`: up to the last newline of the run.
            var runEnd = i
            var lastNewline = -1
            while runEnd < end, CharacterClass.isWhitespace(t[runEnd]) {
                if t[runEnd] == "\r" || t[runEnd] == "\n" { lastNewline = runEnd }
                runEnd += 1
            }
            if lastNewline >= 0 {
                out.append(i..<(lastNewline + 1)); i = lastNewline + 1; continue
            }
            // `\s+(?!\S)|\s+`
            let k = (runEnd < end && runEnd - i >= 2) ? runEnd - 1 : runEnd
            out.append(i..<k); i = k
        }
    }

    static func scanLiteral(
        _ t: UnsafeBufferPointer<Unicode.Scalar>, _ range: Range<Int>, _ needle: [Unicode.Scalar], _ out: inout [Range<Int>]
    ) {
        guard let first = needle.first else { return }
        var i = range.lowerBound
        let end = range.upperBound
        while i + needle.count <= end {
            if t[i] == first {
                var k = 1
                while k < needle.count, t[i + k] == needle[k] { k += 1 }
                if k == needle.count { out.append(i..<(i + needle.count)); i += needle.count; continue }
            }
            i += 1
        }
    }

    static func scanRegex(
        _ regex: NSRegularExpression, _ t: UnsafeBufferPointer<Unicode.Scalar>, _ range: Range<Int>, _ out: inout [Range<Int>]
    ) {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: t[range])
        let string = String(view)
        // Map UTF-16 offsets back to scalar offsets.
        var utf16ToScalar: [Int] = []
        utf16ToScalar.reserveCapacity(string.utf16.count + 1)
        for (index, scalar) in t[range].enumerated() {
            utf16ToScalar.append(range.lowerBound + index)
            if scalar.value > 0xFFFF { utf16ToScalar.append(range.lowerBound + index) }
        }
        utf16ToScalar.append(range.upperBound)
        let nsRange = NSRange(location: 0, length: string.utf16.count)
        for match in regex.matches(in: string, options: [], range: nsRange) where match.range.length > 0 {
            out.append(utf16ToScalar[match.range.location]..<utf16ToScalar[match.range.location + match.range.length])
        }
    }
}
