import Foundation
import NNsight
import NNsightTorch
import Synchronization

/// The reliability soak: many failing interventions in one process on one model, then checks that
/// nothing leaked and nothing changed, then concurrent traces on the same model. The benchmark
/// (`nnsight-bench soak`) runs it at N = 10,000; a test runs the same code at a small N.
public final class Soak {
    public let model: LanguageModel
    public let provoker: FailureProvoker
    /// The prompt of the clean-prediction check.
    public let cleanPrompt: String
    /// The prompts of the concurrent traces.
    public let concurrentPrompts: [String]
    /// The layer whose MLP the concurrent traces ablate every other time.
    public let ablatedLayer: Int

    public init(model: LanguageModel, cleanPrompt: String = "The capital of France is",
                concurrentPrompts: [String] = ["The capital of France is", "The capital of Italy is",
                                               "One, two, three,", "The Eiffel Tower is in"],
                ablatedLayer: Int = 10) {
        self.model = model
        provoker = FailureProvoker(model: model)
        self.cleanPrompt = cleanPrompt
        self.concurrentPrompts = concurrentPrompts
        self.ablatedLayer = ablatedLayer
    }

    /// Runs `iterations` failing interventions, cycling through `kinds` (every ``FailureKind``
    /// unless told otherwise), after one warm-up round of each (which the tallies leave out); then
    /// the clean check; then `threads` threads of `tracesPerThread` traces each on the one model.
    /// `progress` hears the count done.
    public func run(iterations: Int, kinds: [FailureKind] = FailureKind.allCases, threads: Int = 4,
                    tracesPerThread: Int = 25, progress: ((Int) -> Void)? = nil) throws -> SoakReport {
        precondition(!kinds.isEmpty, "a soak needs at least one failure kind")
        let clean = try cleanLogits()
        for kind in kinds { _ = provoker.provoke(kind) }
        let before = ProcessStats.current()

        var tallies = Dictionary(uniqueKeysWithValues: kinds.map { ($0, KindTally()) })
        let start = ContinuousClock.now
        for round in 0..<iterations {
            let kind = kinds[round % kinds.count]
            tallies[kind]!.record(provoker.provoke(kind, round: round))
            if let progress, (round + 1) % 500 == 0 { progress(round + 1) }
        }
        let elapsed = ContinuousClock.now - start
        let after = ProcessStats.current()

        let cleanAfter = try cleanLogits()
        let concurrency = try concurrentTraces(threads: threads, tracesPerThread: tracesPerThread)
        return SoakReport(
            iterations: iterations, elapsed: elapsed, kinds: kinds, tallies: tallies, before: before, after: after,
            cleanTop1Before: try clean.argmax().item(Int.self), cleanTop1After: try cleanAfter.argmax().item(Int.self),
            cleanMaxChange: try (cleanAfter - clean).abs().max().item(Double.self),
            concurrency: concurrency, afterConcurrency: ProcessStats.current())
    }

    /// The last position's logits of the clean prompt.
    func cleanLogits() throws -> Tensor {
        try model.trace(cleanPrompt) { m in try m.lm_head.output[0, -1].clone() }
    }

    /// One trace of the concurrent phase: the last position's logits, with the MLP of
    /// `ablatedLayer` zeroed when `ablate`.
    func logits(_ prompt: String, ablate: Bool) throws -> Tensor {
        try model.trace(prompt) { m in
            if ablate { try m.model.layers[ablatedLayer].mlp.output[.all] = 0 }
            return try m.lm_head.output[0, -1].clone()
        }
    }

    /// `threads` threads each run `tracesPerThread` traces on the one model, over the prompts,
    /// ablated every other time; each result is compared with the same trace run alone.
    func concurrentTraces(threads: Int, tracesPerThread: Int) throws -> ConcurrencyReport {
        var expected: [[Tensor]] = []
        for prompt in concurrentPrompts {
            expected.append([try logits(prompt, ablate: false), try logits(prompt, ablate: true)])
        }
        let shared = SharedSoak(soak: self, expected: expected)
        let results = Mutex(ConcurrencyReport(threads: threads, tracesPerThread: tracesPerThread))
        let group = DispatchGroup()
        for thread in 0..<threads {
            group.enter()
            let worker = Thread {
                for trace in 0..<tracesPerThread {
                    let verdict = shared.check(thread: thread, trace: trace)
                    results.withLock { $0.record(verdict) }
                }
                group.leave()
            }
            worker.start()
        }
        group.wait()
        return results.withLock { $0 }
    }
}

/// The soak and its expected values, handed to the concurrent threads. `@unchecked Sendable`:
/// the threads only read `expected` (set before they start), and traces on the one model take
/// turns through its tree's run lock (`Tracer.run`).
private struct SharedSoak: @unchecked Sendable {
    let soak: Soak
    let expected: [[Tensor]]

    /// One concurrent trace, checked: nil when correct, else what was wrong.
    func check(thread: Int, trace: Int) -> String? {
        let promptIndex = (thread + trace) % soak.concurrentPrompts.count
        let ablate = trace % 2 == 1
        do {
            let got = try soak.logits(soak.concurrentPrompts[promptIndex], ablate: ablate)
            let want = expected[promptIndex][ablate ? 1 : 0]
            let difference = try (got - want).abs().max().item(Double.self)
            let top1 = try got.argmax().item(Int.self), wantTop1 = try want.argmax().item(Int.self)
            guard difference <= 1e-4, top1 == wantTop1 else {
                return "thread \(thread) trace \(trace): top-1 \(top1) (alone: \(wantTop1)), max |Δ| \(difference)"
            }
            return nil
        } catch {
            return "thread \(thread) trace \(trace): \(error)"
        }
    }
}
