import Foundation
import NNsight
import NNsightRemote
import NNsightServer
import NNsightTorch
import Testing

/// `generate(…, streamer:)` on a remote model: each step's tokens reach the client while the
/// generation runs, in the order, with the rows and ids, of a local generation's streamer.
struct RemoteStreamingTests {
    /// Collects what a streamer receives: each `receive` call's tokens, and whether it finished.
    final class Collector: @unchecked Sendable {  // every field behind `condition`
        private let condition = NSCondition()
        private var received: [[StreamedToken]] = []
        private var finishedAfter: Int?

        var streamer: CallbackStreamer {
            CallbackStreamer(onFinish: { [self] in
                condition.withLock {
                    finishedAfter = received.count
                    condition.broadcast()
                }
            }) { [self] tokens in
                condition.withLock {
                    received.append(tokens)
                    condition.broadcast()
                }
            }
        }

        var steps: [[StreamedToken]] { condition.withLock { received } }
        /// How many steps had been received when the streamer was finished (nil: never).
        var finished: Int? { condition.withLock { finishedAfter } }

        /// Waits (at most `seconds`) until `count` steps have been received; true if they were.
        func wait(forSteps count: Int, seconds: Double = 30) -> Bool {
            let deadline = Date(timeIntervalSinceNow: seconds)
            condition.lock()
            defer { condition.unlock() }
            while received.count < count {
                if !condition.wait(until: deadline) { return received.count >= count }
            }
            return true
        }
    }

    struct NotStreamedYet: Error {}

    /// Zeroes part of layer 0's MLP at step 1; at step 2 the streamer must already hold steps 0
    /// and 1 (the generation is still running: this closure holds it at step 2).
    static func generate(_ model: any TracerScenarioModel, _ prompt: any PromptConvertible, _ collector: Collector) throws -> Tensor {
        let body = { (m: Envoy, t: any ScenarioTracer) throws -> Tensor in
            for step in t.iter(0..<3) {
                if step == 1 { try m.transformer.h[0].mlp.output[.ellipsis, 0..<16] = 0 }
                if step == 2, !collector.wait(forSteps: 2) { throw NotStreamedYet() }
            }
            return try t.result()
        }
        switch model {
        case let local as LanguageModel:
            return try local.generate(prompt, maxNewTokens: 4, stopAtEOS: false, streamer: collector.streamer) { m, t in try body(m, t) }
        case let remote as RemoteModel:
            return try remote.generate(prompt, maxNewTokens: 4, stopAtEOS: false, streamer: collector.streamer) { m, t in try body(m, t) }
        default:
            fatalError("a local or a remote model")
        }
    }

    @Test func aRemoteGenerationStreamsTheTokensOfALocalOne() async throws {
        let local = try Fixtures.localModel()
        let expected = Collector()
        let localIds = try Self.generate(local, Scenarios.prompt, expected)
        let (ids, got) = try await withServer { url, _ in
            let remote = try RemoteModel(url: url)
            let collector = Collector()
            let ids = try Self.generate(remote, Scenarios.prompt, collector)
            return (UncheckedTensor(ids), collector)
        }
        #expect(try ids.tensor.equal(localIds))
        #expect(expected.steps.count == 4)
        // Alone on the server the generation is the local one exactly: the same tokens, steps,
        // rows, texts and probabilities, step by step.
        #expect(got.steps == expected.steps)
        #expect(got.finished == 4 && expected.finished == 4)
        // The streamed ids are the generated ones.
        let generated = try localIds.toArray(Int.self).suffix(4)
        #expect(got.steps.map { $0[0].id } == Array(generated))
    }

    /// A `TokenStream` (an AsyncSequence) iterated in a task while a remote generation runs on a
    /// thread: the sequence yields the generated ids and ends when the generation does.
    @Test func aTokenStreamYieldsARemoteGenerationsTokensAndEnds() async throws {
        let local = try Fixtures.localModel()
        let expected = try local.generate(Scenarios.prompt, maxNewTokens: 5, stopAtEOS: false) { _, t in try t.result() }
        let stream = TokenStream()
        let reader = Task { () -> [Int] in
            var ids: [Int] = []
            for await token in stream { ids.append(token.id) }
            return ids
        }
        try await withServer { url, _ in
            let remote = try RemoteModel(url: url)
            _ = try remote.generate(Scenarios.prompt, maxNewTokens: 5, stopAtEOS: false, streamer: stream) { _, t in try t.result() }
        }
        let ids = await reader.value
        #expect(ids == Array(try expected.toArray(Int.self).suffix(5)))
    }

    /// Three clients generate together (one with two prompts): each streams only its own rows,
    /// numbered within its trace, in the local order and with the local ids.
    @Test func coBatchedGenerationsStreamEachClientsOwnRows() async throws {
        let prompts: [[[Int]]] = [[[3, 14, 15, 92, 65, 35]], [[89, 79, 32, 38, 46, 26], [43, 38, 32, 79, 50, 28]],
                                  [[8, 41, 97, 16, 93, 99]]]
        let local = try Fixtures.localModel()
        let expected = try prompts.map { rows in
            let collector = Collector()
            _ = try Self.generate(local, rows, collector)
            return collector
        }
        var configuration = ServerConfiguration()
        configuration.batchWindow = .seconds(2)
        let (results, stats) = try await clientsTogether(prompts.count, on: configuration) { remote, client in
            let collector = Collector()
            _ = try Self.generate(remote, prompts[client], collector)
            return collector
        }
        #expect(stats.sharedForwards >= 1)
        for client in prompts.indices {
            let got = try results[client].get().steps
            let want = expected[client].steps
            #expect(got.count == want.count, "client \(client)")
            for (gotStep, wantStep) in zip(got, want) {
                #expect(gotStep.map(\.step) == wantStep.map(\.step), "client \(client)")
                #expect(gotStep.map(\.row) == wantStep.map(\.row), "client \(client)")
                #expect(gotStep.map(\.id) == wantStep.map(\.id), "client \(client)")
                #expect(gotStep.map(\.text) == wantStep.map(\.text), "client \(client)")
                // Probabilities to float rounding of a larger batch, as every shared value.
                for (a, b) in zip(gotStep, wantStep) { #expect(abs(a.probability - b.probability) < 1e-4, "client \(client)") }
            }
            #expect(try results[client].get().finished == want.count)
        }
    }
}
