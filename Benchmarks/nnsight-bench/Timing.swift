import Foundation

/// The best and the median sample of one timed case (the Python references report the same pair).
struct Timing: Decodable {
    var best: Double
    var median: Double

    static func - (a: Timing, b: Timing) -> Timing { Timing(best: a.best - b.best, median: a.median - b.median) }

    func scaled(by factor: Double) -> Timing { Timing(best: best * factor, median: median * factor) }

    /// `best (median)`.
    func formatted(digits: Int = 2) -> String { String(format: "%.\(digits)f (%.\(digits)f)", best, median) }
}

/// Times `cases` round-robin (one sample of each per round, after `warmup` untimed rounds), so
/// that load from other processes on a shared machine hits them alike; a sample is `inner`
/// back-to-back calls, divided by `inner`. Returns the best and median sample per case in units
/// of `unitNanoseconds`. The rule of Benchmarks/python's `measure_group`.
func interleavedTimes(rounds: Int, warmup: Int, inner: Int = 1, unitNanoseconds: Double,
                      _ cases: [() throws -> Void]) throws -> [Timing] {
    for _ in 0..<warmup { for body in cases { for _ in 0..<inner { try body() } } }
    var samples = Array(repeating: [Double](), count: cases.count)
    for _ in 0..<rounds {
        for (index, body) in cases.enumerated() {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<inner { try body() }
            samples[index].append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(inner) / unitNanoseconds)
        }
    }
    return samples.map(Timing.init(samples:))
}

/// Like ``interleavedTimes(rounds:warmup:inner:unitNanoseconds:_:)``, for cases that measure
/// themselves: each call returns its own sample (a time taken inside it, in any unit), and the
/// best (smallest) and median sample per case are returned.
func interleavedSamples(rounds: Int, warmup: Int, _ cases: [() throws -> Double]) throws -> [Timing] {
    for _ in 0..<warmup { for body in cases { _ = try body() } }
    var samples = Array(repeating: [Double](), count: cases.count)
    for _ in 0..<rounds {
        for (index, body) in cases.enumerated() { samples[index].append(try body()) }
    }
    return samples.map(Timing.init(samples:))
}

extension Timing {
    /// The best (smallest) and the median of `samples`.
    init(samples: [Double]) {
        let sorted = samples.sorted()
        let middle = sorted.count / 2
        let median = sorted.isEmpty ? .nan : sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        self.init(best: sorted.first ?? .nan, median: median)
    }
}
