import ArgumentParser
import Foundation
import NNsightTokenizers

/// `nnsight-bench tokenizers`: encode throughput of `Tokenizers` against Python `tokenizers`
/// (the Rust library, single-threaded) on the same text, in one run.
///
/// The text is the test corpus (Tests/Fixtures/tokenizers/corpus.json) repeated to the requested
/// size; both sides encode it as one string and line by line, and must produce the same ids.
struct TokenizersBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizers",
        abstract: "Tokenizer encode throughput (MB/s), Swift against Python tokenizers, single-threaded.")

    @Option(help: "Fixture tokenizers to time (names under Tests/Fixtures/tokenizers).")
    var tokenizer: [String] = ["smollm2", "llama3-bpe", "sp-bpe"]

    @Option(help: "Size of the text in megabytes.")
    var megabytes: Double = 1

    @Option(help: "Timed rounds (the best is reported).")
    var rounds: Int = 5

    struct PythonResult: Decodable {
        var bytes: Int
        var whole_seconds: Double
        var whole_ids: Int
        var whole_checksum: Int
        var lines_seconds: Double
        var lines_ids: Int
        var lines_checksum: Int
    }

    func run() throws {
        let fixtures = Reference.root.appendingPathComponent("Tests/Fixtures/tokenizers")
        let corpus = try JSONDecoder().decode([String].self, from: Data(contentsOf: fixtures.appendingPathComponent("corpus.json")))
        let lines = corpus.map { $0.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ") }
        var text = ""
        let target = Int(megabytes * 1_000_000)
        var index = 0
        while text.utf8.count < target {
            text += lines[index % lines.count]
            text += "\n"
            index += 1
        }
        let textURL = FileManager.default.temporaryDirectory.appendingPathComponent("nnsight-bench-tokenizers-\(getpid()).txt")
        try text.write(to: textURL, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: textURL) }
        let textLines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let megabytesOfText = Double(text.utf8.count) / 1_000_000

        print("text: \(String(format: "%.2f", megabytesOfText)) MB, \(textLines.count) lines; best of \(rounds) rounds; single-threaded")
        for name in tokenizer {
            let path = fixtures.appendingPathComponent("\(name).tokenizer.json")
            let loadStart = DispatchTime.now().uptimeNanoseconds
            let swiftTokenizer = try Tokenizer(contentsOf: path)
            let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9

            var wholeBest = Double.infinity, linesBest = Double.infinity
            var wholeIds: [Int] = [], lineIds: [Int] = []
            for _ in 0..<rounds {
                var start = DispatchTime.now().uptimeNanoseconds
                wholeIds = swiftTokenizer.encode(text, addSpecialTokens: false).ids
                wholeBest = min(wholeBest, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                start = DispatchTime.now().uptimeNanoseconds
                var all: [Int] = []
                for line in textLines { all += swiftTokenizer.encode(line, addSpecialTokens: false).ids }
                linesBest = min(linesBest, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                lineIds = all
            }
            let python = try Reference.run(
                "tokenizers_bench.py", arguments: [path.path, textURL.path, String(rounds)], as: PythonResult.self)
            let identical = python.whole_ids == wholeIds.count && python.whole_checksum == Self.checksum(wholeIds)
                && python.lines_ids == lineIds.count && python.lines_checksum == Self.checksum(lineIds)

            func row(_ label: String, _ swift: Double, _ py: Double) {
                let swiftRate = megabytesOfText / swift, pyRate = megabytesOfText / py
                print("  \(label): swift \(String(format: "%.3f", swift)) s (\(String(format: "%.2f", swiftRate)) MB/s)"
                      + "  python tokenizers \(String(format: "%.3f", py)) s (\(String(format: "%.2f", pyRate)) MB/s)"
                      + "  ratio swift/python speed \(String(format: "%.2f", py / swift))x")
            }
            print("\(name): load \(String(format: "%.3f", loadSeconds)) s, \(wholeIds.count) ids, ids identical to Python: \(identical ? "yes" : "NO")")
            row("one string ", wholeBest, python.whole_seconds)
            row("line by line", linesBest, python.lines_seconds)
        }
    }

    static func checksum(_ ids: [Int]) -> Int {
        var value = 0
        for id in ids { value = (value * 31 + id) % 1_000_000_007 }
        return value
    }
}
