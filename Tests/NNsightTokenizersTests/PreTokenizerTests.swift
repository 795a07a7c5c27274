import Foundation
import Testing
@testable import NNsightTokenizers

/// The hand-written scanners against the regexes they replace, and the split behaviours.
@Suite struct PreTokenizerTests {
    static func pieces(_ pattern: SplitPattern, _ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        let ranges = scalars.withUnsafeBufferPointer { pattern.matches(in: $0, range: 0..<scalars.count) }
        return ranges.map { range in
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[range])
            return String(view)
        }
    }

    @Test func gpt2Pattern() {
        #expect(Self.pieces(.gpt2, "Hello world's   end\n\n x2 12ab") == ["Hello", " world", "'s", "  ", " end", "\n\n", " x", "2", " 12", "ab"])
        #expect(Self.pieces(.gpt2, "  ") == ["  "])
        #expect(Self.pieces(.gpt2, "a  ") == ["a", "  "])
        #expect(Self.pieces(.gpt2, "?!'s \t x") == ["?!'", "s", " \t", " x"])
    }

    @Test func llama3Pattern() {
        #expect(Self.pieces(.llama3(maxDigits: 3), "I'M 12345 \"quoted\" \n\n  next") == ["I", "'M", " ", "123", "45", " \"", "quoted", "\"", " \n\n", " ", " next"])
        #expect(Self.pieces(.llama3(maxDigits: 1), "123") == ["1", "2", "3"])
    }

    /// On text without the corner cases where ICU and Oniguruma differ, the scanners agree with
    /// `NSRegularExpression` running the original pattern.
    @Test(arguments: [SplitPattern.gpt2Source, SplitPattern.llama3Source, SplitPattern.qwen2Source])
    func scannersAgreeWithRegex(source: String) throws {
        let scanner = try SplitPattern.regex(source, path: "test")
        let regex = SplitPattern.regex(try NSRegularExpression(pattern: source))
        for text in Fixtures.corpus.prefix(500) {
            #expect(Self.pieces(scanner, text) == Self.pieces(regex, text), "\(text.debugDescription)")
        }
    }

    @Test func splitBehaviours() {
        func split(_ behavior: SplitBehavior, invert: Bool = false) -> [String] {
            var text = PreTokenizedString(scalars: Array("a-b--c".unicodeScalars), atStart: true)
            text.split(behavior: behavior, invert: invert) { buffer, range in range.filter { buffer[$0] == "-" }.map { $0..<($0 + 1) } }
            return text.pieces.map { String(String.UnicodeScalarView(text.scalars[$0.range])) }
        }
        #expect(split(.isolated) == ["a", "-", "b", "-", "-", "c"])
        #expect(split(.removed) == ["a", "b", "c"])
        #expect(split(.mergedWithPrevious) == ["a-", "b-", "-", "c"])
        #expect(split(.mergedWithNext) == ["a", "-b", "-", "-c"])
        #expect(split(.contiguous) == ["a", "-", "b", "--", "c"])
        #expect(split(.removed, invert: true) == ["-", "-", "-"])
    }
}
