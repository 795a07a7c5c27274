/// A token added on top of the model's vocabulary (`tokenizers.AddedToken`), matched in the
/// raw text before anything else runs, so `<|im_start|>` is one token, never `<`, `|`, `im`, ….
public struct AddedToken: Sendable, Hashable {
    public var id: Int
    public var content: String
    /// Only matched when not part of a larger word.
    public var singleWord: Bool
    /// Also swallows the whitespace on its left.
    public var lstrip: Bool
    /// Also swallows the whitespace on its right.
    public var rstrip: Bool
    /// Matched against normalized text rather than raw text.
    public var normalized: Bool
    /// Special tokens are dropped by `decode(_:skipSpecialTokens: true)`.
    public var special: Bool

    public init(
        id: Int, content: String, singleWord: Bool = false, lstrip: Bool = false, rstrip: Bool = false,
        normalized: Bool = false, special: Bool = true
    ) {
        self.id = id
        self.content = content
        self.singleWord = singleWord
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.normalized = normalized
        self.special = special
    }
}

/// Finds added tokens in text: leftmost match first, the longest one where several start
/// at the same place (what `tokenizers`' Aho-Corasick matcher does).
struct AddedTokenMatcher: Sendable {
    private struct Candidate: Sendable {
        var scalars: [Unicode.Scalar]
        var token: AddedToken
    }

    /// Candidates by first scalar, longest first.
    private let byFirst: [Unicode.Scalar: [Candidate]]
    /// Quick filter on the first scalar's low bits.
    private let firstBits: [Bool]

    var isEmpty: Bool { byFirst.isEmpty }

    init(tokens: [AddedToken], normalize: ((String) -> String)? = nil) {
        var table: [Unicode.Scalar: [Candidate]] = [:]
        var bits = [Bool](repeating: false, count: 256)
        for token in tokens {
            let content = normalize?(token.content) ?? token.content
            let scalars = Array(content.unicodeScalars)
            guard let first = scalars.first else { continue }
            table[first, default: []].append(Candidate(scalars: scalars, token: token))
            bits[Int(first.value & 0xFF)] = true
        }
        for key in table.keys { table[key]!.sort { $0.scalars.count > $1.scalars.count } }
        byFirst = table
        firstBits = bits
    }

    /// Splits `text` into runs of plain text and added tokens, applying each token's flags.
    func split(_ text: [Unicode.Scalar]) -> [(range: Range<Int>, token: AddedToken?)] {
        if byFirst.isEmpty || text.isEmpty { return [(0..<text.count, nil)] }
        var result: [(range: Range<Int>, token: AddedToken?)] = []
        var consumed = 0
        var i = 0
        let n = text.count
        while i < n {
            let scalar = text[i]
            guard firstBits[Int(scalar.value & 0xFF)], let candidates = byFirst[scalar] else { i += 1; continue }
            var found: Candidate? = nil
            for candidate in candidates where i + candidate.scalars.count <= n {
                var k = 1
                let s = candidate.scalars
                while k < s.count, text[i + k] == s[k] { k += 1 }
                if k == s.count { found = candidate; break }
            }
            guard let match = found else { i += 1; continue }
            var start = i
            var stop = i + match.scalars.count
            let token = match.token
            if token.singleWord {
                let leftOK = start == 0 || !isWordBoundaryScalar(text[start - 1])
                let rightOK = stop == n || !isWordBoundaryScalar(text[stop])
                if !leftOK || !rightOK {
                    // Rejected; the search resumes after it, as an Aho-Corasick iterator does.
                    i = stop
                    continue
                }
            }
            if token.lstrip {
                var newStart = start
                while newStart > 0, text[newStart - 1].properties.isWhitespace { newStart -= 1 }
                start = max(newStart, consumed)
            }
            if token.rstrip {
                while stop < n, text[stop].properties.isWhitespace { stop += 1 }
            }
            if consumed < start { result.append((consumed..<start, nil)) }
            result.append((start..<stop, token))
            consumed = stop
            i = stop
        }
        if consumed < n { result.append((consumed..<n, nil)) }
        return result
    }
}

/// A character that makes a `single_word` token part of a larger word.
private func isWordBoundaryScalar(_ s: Unicode.Scalar) -> Bool {
    s == "_" || CharacterClass.flags(s) & CharacterClass.alphanumeric != 0
}
