import Foundation
import NNsight
import NNsightRemote
import NNsightServer
import NNsightTorch
import Testing

/// Several clients at once: their traces share batched forwards, and each sees only its rows.
struct CoBatchingTests {
    static let prompts = (0..<16).map { "Client \($0) asks where the tower " + String(repeating: "really ", count: $0 % 3) + "is" }

    /// What each client computes: patch its layer-0 output's last position, read the logits.
    static func intervention(_ m: Envoy) throws -> Tensor {
        try m.transformer.h[0].output[0..., -1] = 1
        return try m.lm_head.output
    }

    @Test func sixteenClientsShareForwardsAndGetTheirLocalResults() async throws {
        let local = try Fixtures.localModel()
        let expected = try Self.prompts.map { prompt in try local.trace(prompt) { m in try Self.intervention(m) } }
        var configuration = ServerConfiguration()
        configuration.batchWindow = .seconds(2)
        configuration.defaultLimits.concurrentTraces = 32
        let (results, stats) = try await clientsTogether(16, on: configuration) { remote, index in
            let logits = try remote.trace(Self.prompts[index]) { m in try Self.intervention(m) }
            // A prompt-less invoke covers this client's rows only, never another client's.
            var rows = 0
            try remote.trace { t in
                try t.invoke(Self.prompts[index]) { _ in }
                try t.invoke { m in rows = try m.transformer.h[0].output.size(0) }
            }
            return (UncheckedTensor(logits), rows)
        }
        for (index, result) in results.enumerated() {
            let (logits, rows) = try result.get()
            #expect(rows == 1)
            #expect(try maxAbsDifference(logits.tensor, expected[index]) < 1e-4, "client \(index)")
        }
        #expect(stats.traces == 32)
        #expect(stats.sharedForwards >= 1)
        #expect(stats.largestBatch >= 2)
        #expect(stats.forwards < stats.traces)
    }

    @Test func aStalledClientHitsTheDeadlineAndTheOthersComplete() async throws {
        let local = try Fixtures.localModel()
        let prompts = ["The first prompt is here", "The second prompt", "A stalled client"]
        let expected = try prompts.map { prompt in try local.trace(prompt) { m in try m.lm_head.output } }
        var configuration = ServerConfiguration()
        configuration.batchWindow = .milliseconds(300)
        configuration.clientDeadline = .seconds(10)
        let (results, after) = try await withServer(configuration) { url, _ in
            let results = try clientsTogether(3, url: url) { remote, index in
                // The stalled client stays silent until the server has cancelled it.
                let cancelled = DispatchSemaphore(value: 0)
                remote.onStatus = { event in if event.kind == .error || event.state == .error { cancelled.signal() } }
                return UncheckedTensor(try remote.trace(prompts[index]) { m in
                    _ = try m.transformer.h[0].output
                    if index == 2 { cancelled.wait() }
                    return try m.lm_head.output
                })
            }
            // The server keeps serving.
            let after = try RemoteModel(url: url).trace(prompts[0]) { m in try m.lm_head.output }
            return (results, UncheckedTensor(after))
        }
        for index in 0..<2 {
            #expect(try maxAbsDifference(try results[index].get().tensor, expected[index]) < 1e-4)
        }
        #expect(throws: RemoteError.self) { try results[2].get() }
        if case .failure(RemoteError.protocolError(let code, _)) = results[2] {
            #expect(code == .deadlineExceeded)
        } else {
            Issue.record("the stalled client got \(results[2])")
        }
        #expect(try maxAbsDifference(after.tensor, expected[0]) < 1e-4)
    }

    @Test func aDroppedConnectionCancelsOnlyThatClient() async throws {
        let local = try Fixtures.localModel()
        let expected = try local.trace(Scenarios.other) { m in try m.lm_head.output }
        var configuration = ServerConfiguration()
        configuration.batchWindow = .milliseconds(300)
        let results = try await withServer(configuration) { url, _ in
            return try clientsTogether(2, url: url) { remote, index in
                if index == 0 {
                    return UncheckedTensor(try remote.trace(Scenarios.prompt) { m in
                        _ = try m.transformer.h[0].output
                        remote.close()
                        return try m.lm_head.output
                    })
                }
                return UncheckedTensor(try remote.trace(Scenarios.other) { m in try m.lm_head.output })
            }
        }
        #expect(throws: RemoteError.self) { try results[0].get() }
        #expect(try maxAbsDifference(try results[1].get().tensor, expected) < 1e-4)
    }
}

/// The queue: status events, and cancelling a queued trace.
struct QueueTests {
    @Test func statusEventsFollowATraceAndAQueuedTraceCanBeCancelled() async throws {
        let (states, cancelled, holderValue) = try await withServer { url, _ in
            let holder = try RemoteModel(url: url), waiter = try RemoteModel(url: url)
            let holding = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            let holderResult = ResultSlots<UncheckedTensor>(count: 1)
            let done = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                holderResult.set(Result {
                    UncheckedTensor(try holder.trace(Scenarios.prompt) { m in
                        _ = try m.transformer.h[0].output
                        holding.signal()            // the model is held here until the waiter is done
                        release.wait()
                        return try m.lm_head.output
                    })
                }, at: 0)
                done.signal()
            }
            holding.wait()
            // The model is busy: this trace is queued, and cancelled as soon as it hears so.
            waiter.onStatus = { [unowned waiter] status in
                if status.state == .queued { waiter.cancel() }
            }
            let cancelled = Result { try waiter.trace(Scenarios.other) { m in try m.lm_head.output } }
            let seen = waiter.lastStatus.compactMap(\.state)
            release.signal()
            done.wait()
            return (seen, cancelled.map { UncheckedTensor($0) }, try holderResult.all[0].get())
        }
        #expect(states.first == .queued)
        guard case .failure(RemoteError.protocolError(let code, _)) = cancelled else {
            Issue.record("the cancelled trace returned \(cancelled)")
            return
        }
        #expect(code == .cancelled)
        let local = try Fixtures.localModel()
        #expect(try holderValue.tensor.equal(try local.trace(Scenarios.prompt) { m in try m.lm_head.output }))
    }

    @Test func aTraceReportsQueuedRunningCompleted() async throws {
        let states = try await withServer { url, _ in
            let remote = try RemoteModel(url: url)
            _ = try remote.trace(Scenarios.prompt) { m in try m.lm_head.output }
            return remote.lastStatus.compactMap(\.state)
        }
        #expect(states == [.queued, .running, .completed])
    }
}
