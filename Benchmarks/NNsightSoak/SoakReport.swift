import Foundation

/// How the interventions of one failure kind came back.
public struct KindTally: Sendable {
    /// With the error (or clean early end) the kind calls for.
    public private(set) var expected = 0
    /// Returned normally where an error was due.
    public private(set) var noError = 0
    /// With another error; the first few distinct descriptions.
    public private(set) var unexpected = 0
    public private(set) var unexpectedSamples: [String] = []

    public var total: Int { expected + noError + unexpected }

    mutating func record(_ outcome: Outcome) {
        switch outcome {
        case .expected: expected += 1
        case .noError: noError += 1
        case .unexpectedError(let description):
            unexpected += 1
            if unexpectedSamples.count < 3, !unexpectedSamples.contains(description) {
                unexpectedSamples.append(description)
            }
        }
    }
}

/// The concurrent phase: how many traces matched the same trace run alone.
public struct ConcurrencyReport: Sendable {
    public let threads: Int
    public let tracesPerThread: Int
    public private(set) var correct = 0
    public private(set) var failures: [String] = []

    init(threads: Int, tracesPerThread: Int) {
        self.threads = threads
        self.tracesPerThread = tracesPerThread
    }

    mutating func record(_ failure: String?) {
        if let failure { failures.append(failure) } else { correct += 1 }
    }

    public var allCorrect: Bool { correct == threads * tracesPerThread && failures.isEmpty }
}

/// What a soak found.
public struct SoakReport: Sendable {
    public let iterations: Int
    public let elapsed: Duration
    /// The kinds run; a kind left out is named in the text.
    public let kinds: [FailureKind]
    public let tallies: [FailureKind: KindTally]
    /// Thread count and resident memory after the warm-up round, and after the failing runs.
    public let before: ProcessStats?
    public let after: ProcessStats?
    /// The clean prompt's top-1 token before and after the failing runs, and the largest change
    /// of any of its logits.
    public let cleanTop1Before: Int
    public let cleanTop1After: Int
    public let cleanMaxChange: Double
    public let concurrency: ConcurrencyReport
    public let afterConcurrency: ProcessStats?

    /// Every failing intervention came back as the error its kind calls for.
    public var everyFailureTyped: Bool { tallies.values.allSatisfy { $0.expected == $0.total } }

    public var threadsUnchanged: Bool? {
        guard let before, let after else { return nil }
        return before.threads == after.threads
    }

    /// Resident memory growth over the failing runs, as a fraction of the size before.
    public var residentGrowth: Double? {
        guard let before, let after else { return nil }
        return Double(after.residentBytes - before.residentBytes) / Double(before.residentBytes)
    }

    public var modelUnchanged: Bool { cleanTop1Before == cleanTop1After && cleanMaxChange == 0 }

    /// The targets: every kind run, every failure typed, threads unchanged, memory growth under 5 %, the model
    /// unchanged, every concurrent trace correct.
    public var passed: Bool {
        kinds.count == FailureKind.allCases.count && everyFailureTyped && threadsUnchanged != false && (residentGrowth ?? 0) < 0.05 && modelUnchanged
            && concurrency.allCorrect
    }

    /// The report as printed by `nnsight-bench soak`.
    public var text: String {
        var lines: [String] = []
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        lines.append("failing interventions: \(iterations) in \(String(format: "%.1f", seconds)) s"
            + " (\(String(format: "%.2f", seconds * 1000 / Double(max(iterations, 1)))) ms each), 0 crashes (the process is alive)")
        lines.append("kind                      expected  no-error  other-error")
        for kind in FailureKind.allCases {
            guard let tally = tallies[kind] else {
                lines.append(kind.rawValue.padding(toLength: 26, withPad: " ", startingAt: 0) + "  LEFT OUT (--skip)")
                continue
            }
            lines.append(kind.rawValue.padding(toLength: 26, withPad: " ", startingAt: 0)
                + String(format: "%8d  %8d  %11d", tally.expected, tally.noError, tally.unexpected))
            for sample in tally.unexpectedSamples { lines.append("    other error: \(sample)") }
        }
        lines.append("every failure came back as its typed error: \(everyFailureTyped ? "yes" : "NO")")
        if let before, let after, let growth = residentGrowth {
            lines.append("threads: \(before.threads) before, \(after.threads) after: \(before.threads == after.threads ? "unchanged" : "CHANGED")")
            lines.append(String(format: "resident memory: %.1f MiB before, %.1f MiB after: growth %.2f %% (target < 5 %%)",
                                Double(before.residentBytes) / 1_048_576, Double(after.residentBytes) / 1_048_576, growth * 100))
        } else {
            lines.append("threads and resident memory: not measurable on this platform")
        }
        lines.append("clean top-1 token: \(cleanTop1Before) before, \(cleanTop1After) after; largest logit change \(cleanMaxChange): \(modelUnchanged ? "model unchanged" : "MODEL CHANGED")")
        lines.append("concurrent traces: \(concurrency.threads) threads × \(concurrency.tracesPerThread) on the one model: \(concurrency.correct) correct, \(concurrency.failures.count) wrong")
        for failure in concurrency.failures.prefix(5) { lines.append("    \(failure)") }
        if let afterConcurrency { lines.append("threads after the concurrent traces: \(afterConcurrency.threads)") }
        lines.append("soak \(passed ? "PASSED" : "FAILED")")
        return lines.joined(separator: "\n")
    }
}
