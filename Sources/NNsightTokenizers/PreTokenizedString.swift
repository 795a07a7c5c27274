/// Text on its way through the pipeline: one buffer of Unicode scalars, cut into pieces.
///
/// Pre-tokenizers split pieces (cheap: only ranges change) or rewrite their contents
/// (ByteLevel, Metaspace: the buffer is rebuilt once). Each piece remembers whether it
/// begins at the very start of the original input, which `Metaspace(prepend_scheme: "first")` needs.
struct PreTokenizedString {
    struct Piece {
        var range: Range<Int>
        /// The piece begins at offset 0 of the text given to `encode`.
        var atStart: Bool
    }

    var scalars: [Unicode.Scalar]
    var pieces: [Piece]

    init(scalars: [Unicode.Scalar], atStart: Bool) {
        self.scalars = scalars
        self.pieces = [Piece(range: 0..<scalars.count, atStart: atStart)]
    }

    /// Splits every piece where `matches` finds delimiters, as `NormalizedString::split` does.
    ///
    /// `matches` gets the whole buffer and a piece's range, and returns the delimiter ranges
    /// inside it in order.
    mutating func split(
        behavior: SplitBehavior, invert: Bool = false,
        matches: (UnsafeBufferPointer<Unicode.Scalar>, Range<Int>) -> [Range<Int>]
    ) {
        var result: [Piece] = []
        result.reserveCapacity(pieces.count * 2)
        scalars.withUnsafeBufferPointer { buffer in
            var marked: [(Range<Int>, Bool)] = []
            for piece in pieces {
                marked.removeAll(keepingCapacity: true)
                let range = piece.range
                if range.isEmpty {
                    // An empty piece stays (it is dropped later, as in `tokenizers`).
                    result.append(piece)
                    continue
                }
                var previous = range.lowerBound
                for match in matches(buffer, range) {
                    if previous < match.lowerBound { marked.append((previous..<match.lowerBound, invert)) }
                    marked.append((match, !invert))
                    previous = match.upperBound
                }
                if previous < range.upperBound { marked.append((previous..<range.upperBound, invert)) }
                let start = result.count
                Self.apply(behavior, to: marked, into: &result)
                if piece.atStart, start < result.count, result[start].range.lowerBound == range.lowerBound {
                    result[start].atStart = true
                }
            }
        }
        pieces = result
    }

    private static func apply(_ behavior: SplitBehavior, to marked: [(Range<Int>, Bool)], into result: inout [Piece]) {
        func push(_ range: Range<Int>) { if !range.isEmpty { result.append(Piece(range: range, atStart: false)) } }
        switch behavior {
        case .isolated:
            for (range, _) in marked { push(range) }
        case .removed:
            for (range, isMatch) in marked where !isMatch { push(range) }
        case .contiguous:
            var current: Range<Int>? = nil
            var previousMatch = false
            for (index, (range, isMatch)) in marked.enumerated() {
                if index > 0, isMatch == previousMatch, let open = current {
                    current = open.lowerBound..<range.upperBound
                } else {
                    if let open = current { push(open) }
                    current = range
                }
                previousMatch = isMatch
            }
            if let open = current { push(open) }
        case .mergedWithPrevious:
            var current: Range<Int>? = nil
            var previousMatch = false
            for (range, isMatch) in marked {
                if isMatch, !previousMatch, let open = current {
                    current = open.lowerBound..<range.upperBound
                } else {
                    if let open = current { push(open) }
                    current = range
                }
                previousMatch = isMatch
            }
            if let open = current { push(open) }
        case .mergedWithNext:
            var reversed: [Range<Int>] = []
            var previousMatch = false
            for (range, isMatch) in marked.reversed() {
                if isMatch, !previousMatch, let last = reversed.last {
                    reversed[reversed.count - 1] = range.lowerBound..<last.upperBound
                } else {
                    reversed.append(range)
                }
                previousMatch = isMatch
            }
            for range in reversed.reversed() { push(range) }
        }
    }

    /// Rewrites every piece's contents; `transform` appends the new scalars for one piece.
    mutating func rewrite(_ transform: (ArraySlice<Unicode.Scalar>, Piece, inout [Unicode.Scalar]) -> Void) {
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(scalars.count + scalars.count / 4)
        var newPieces: [Piece] = []
        newPieces.reserveCapacity(pieces.count)
        for piece in pieces {
            let start = output.count
            transform(scalars[piece.range], piece, &output)
            newPieces.append(Piece(range: start..<output.count, atStart: piece.atStart))
        }
        scalars = output
        pieces = newPieces
    }
}

/// What `Split` does with the delimiters it finds (`SplitDelimiterBehavior` in `tokenizers`).
enum SplitBehavior: String, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"
}
