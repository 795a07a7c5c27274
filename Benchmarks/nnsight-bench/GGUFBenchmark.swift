import ArgumentParser
import Foundation
import NNsightGGUF

/// `nnsight-bench gguf`: dequantization throughput of `NNsightGGUF` against gguf-py's numpy
/// dequantization (`gguf.quants.dequantize`) of the same blocks, in one run, single-threaded.
///
/// For each type, random block bytes (with finite half-precision scales) are written to a
/// temporary file; both sides dequantize them, the best of `rounds` is reported, and the bit
/// checksums of the two results must agree.
struct GGUFBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gguf",
        abstract: "GGUF dequantization (M elements/s), Swift against gguf-py's numpy, single-threaded.")

    @Option(help: "Types to time (gguf-py names).")
    var type: [String] = ["Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]

    @Option(help: "Elements per tensor, in millions (rounded down to whole 4096-element rows).")
    var millions: Double = 4

    @Option(help: "Timed rounds (the best is reported).")
    var rounds: Int = 5

    struct PythonResult: Decodable {
        var seconds: Double
        var elements: Int
        var sum: String
        var wsum: String
    }

    /// Byte offsets of the IEEE-half fields in one block (as in scripts/fixtures/gen_gguf_quants.py).
    static func halfFields(_ type: GGMLType) -> [Int] {
        switch type {
        case .q8_0, .q4_0, .q5_0: [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: [0, 2]
        case .q2_K: [80, 82]
        case .q3_K: [108]
        case .q6_K: [208]
        default: []
        }
    }

    func run() throws {
        let rowElements = 4096
        let rows = max(1, Int(millions * 1_000_000) / rowElements)
        let count = rows * rowElements
        print("\(count) elements per type (\(rows) rows of \(rowElements)); best of \(rounds) rounds; single-threaded")
        var rng = SystemRandomNumberGenerator()
        for name in type {
            guard let ggmlType = GGMLType.allCases.first(where: { $0.description == name }), ggmlType.isDequantizable else {
                throw ValidationError("unknown or unsupported type \(name)")
            }
            let blocks = count / ggmlType.blockSize
            var bytes = [UInt8](repeating: 0, count: blocks * ggmlType.blockByteCount)
            for i in bytes.indices { bytes[i] = UInt8.random(in: 0 ... 255, using: &rng) }
            for b in 0 ..< blocks {
                for offset in Self.halfFields(ggmlType) {
                    // A finite half in [-0.06, 0.06]: sign, exponent 0…11, random mantissa.
                    let half = UInt16.random(in: 0 ... 0x2FFF, using: &rng) | (Bool.random(using: &rng) ? 0x8000 : 0)
                    bytes[b * ggmlType.blockByteCount + offset] = UInt8(half & 0xFF)
                    bytes[b * ggmlType.blockByteCount + offset + 1] = UInt8(half >> 8)
                }
            }
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("nnsight-bench-gguf-\(getpid()).bin")
            try Data(bytes).write(to: url)
            defer { try? FileManager.default.removeItem(at: url) }

            var best = Double.infinity
            var values: [Float] = []
            for _ in 0 ..< rounds {
                let start = DispatchTime.now().uptimeNanoseconds
                values = try bytes.withUnsafeBytes { raw in try ggmlType.dequantize(raw, elementCount: count) }
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            var sum: UInt64 = 0, wsum: UInt64 = 0
            for (i, v) in values.enumerated() {
                sum &+= UInt64(v.bitPattern)
                wsum &+= UInt64(v.bitPattern) &* UInt64(i + 1)
            }
            let python = try Reference.run(
                "gguf_bench.py", arguments: [url.path, name, String(rowElements), String(rounds)], as: PythonResult.self)
            let identical = python.elements == count && python.sum == String(sum) && python.wsum == String(wsum)
            let swiftRate = Double(count) / best / 1e6, pyRate = Double(count) / python.seconds / 1e6
            print("\(name.padding(toLength: 5, withPad: " ", startingAt: 0)): swift \(String(format: "%.4f", best)) s "
                  + "(\(String(format: "%.0f", swiftRate)) M/s)  gguf-py \(String(format: "%.4f", python.seconds)) s "
                  + "(\(String(format: "%.0f", pyRate)) M/s)  ratio swift/python speed \(String(format: "%.1f", python.seconds / best))x"
                  + "  bit-identical: \(identical ? "yes" : "NO")")
        }
    }
}
