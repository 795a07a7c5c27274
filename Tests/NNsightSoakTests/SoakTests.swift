import Foundation
import Testing
import NNsight
import NNsightTorch
@testable import NNsightSoak

/// The soak that `nnsight-bench soak` runs at N = 10,000, run here at a small N on the default
/// model: the same code, so the benchmark's checks are themselves tested.
@Suite(.serialized)
struct SoakTests {
    static let modelPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".models/SmolLM2-135M-Instruct.Q4_1.gguf").path

    /// Kinds that still stop the process, so cannot run inside the test process; each is run
    /// (and reported) by `nnsight-bench soak`, which fails while any is left out. None today
    /// (the single-invoke `stop()` force-unwrapped the missing result until issue 10's fix).
    static let crashing: [FailureKind] = []

    /// Kinds that misbehave without crashing: recorded as known issues, so the test reports them
    /// and fails once they are fixed (then they move out of this list).
    /// - `invokeOnFinishedTracer`: `Tracer.invoke` cannot throw, and on a tracer whose trace has
    ///   run it silently keeps a closure that never runs.
    static let misbehaving: [FailureKind] = [.invokeOnFinishedTracer]

    @Test func everyFailureKindComesBackTypedAndTheModelStaysClean() throws {
        try Torch.setNumThreads(1)
        let model = try LanguageModel(path: Self.modelPath, dispatch: true)
        let rounds = 1
        let kinds = FailureKind.allCases.filter { !Self.crashing.contains($0) }
        let report = try Soak(model: model).run(iterations: rounds * kinds.count, kinds: kinds, threads: 4,
                                                tracesPerThread: 2)
        for kind in kinds {
            let tally = try #require(report.tallies[kind])
            #expect(tally.total == rounds, "\(kind) ran \(tally.total) times")
            withKnownIssue("\(kind) is not yet a typed error") {
                #expect(tally.expected == rounds, "\(kind): \(tally.noError) without error, other errors: \(tally.unexpectedSamples)")
            } when: {
                Self.misbehaving.contains(kind)
            }
        }
        #expect(report.threadsUnchanged != false)
        #expect(report.modelUnchanged)
        #expect(report.cleanTop1Before == 7042, "the clean prompt's top-1 is \" Paris\"")
        #expect(report.concurrency.allCorrect, "\(report.concurrency.failures)")
        #expect(report.concurrency.correct == 4 * 2)
        #expect(!report.passed, "a soak that left a kind out never passes")
    }

    @Test func eachKindIsClassifiedByItsOwnError() {
        let provoker = FailureProvoker.self
        // A user error with another round number, or an engine error of another case, is not
        // taken for the expected one.
        #expect(provoker.classify(SoakUserError(round: 1), for: .userError, round: 2) != .expected)
        #expect(provoker.classify(NNsightError.missed(requester: "x"), for: .outOfOrder, round: 0) != .expected)
        #expect(provoker.classify(TorchError(.value, "bad"), for: .tensorIndexOutOfRange, round: 0) != .expected)
        #expect(provoker.classify(NNsightError.outOfOrder(requester: "x"), for: .outOfOrder, round: 0) == .expected)
    }
}
