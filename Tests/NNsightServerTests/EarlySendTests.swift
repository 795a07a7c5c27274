import Foundation
import NNsight
import NNsightRemote
import NNsightServer
import NNsightTorch
import Testing

/// Clients of one batched forward that wait at the same module are all sent their values before
/// the server waits for any answer: their round trips overlap instead of adding up.
struct EarlySendTests {
    /// Two prompts of one token length (the server batches only traces of equal length).
    static let prompts = ["Client 1 reads the tower", "Client 2 reads the tower"]

    /// Each client, holding its value at `h.0`, waits until the other client holds its own. If
    /// the server served one client at a time (send, await that client's answer, then the next),
    /// the first client would wait for a value that comes only after its own answer: the wait
    /// runs out and the trace fails.
    @Test func everyWaitingClientHasItsValueBeforeAnyAnswerIsAwaited() async throws {
        let local = try Fixtures.localModel()
        try #require(try local.tokenRows(Self.prompts[0])[0].count == local.tokenRows(Self.prompts[1])[0].count)
        let expected = try Self.prompts.map { prompt in
            try local.trace(prompt) { m in (try m.transformer.h[0].output.clone(), try m.lm_head.output) }
        }
        var configuration = ServerConfiguration()
        configuration.batchWindow = .seconds(2)
        configuration.clientDeadline = .seconds(60)
        let meeting = Meeting(2)
        let (results, stats) = try await clientsTogether(2, on: configuration) { remote, index in
            return try remote.trace(Self.prompts[index]) { m in
                let hidden = try m.transformer.h[0].output.clone()
                guard meeting.arrive(waitingAtMost: 20) else {
                    throw MeetingMissed(description: "client \(index) held its h.0 value for 20 s without the other client receiving its own")
                }
                return (UncheckedTensor(hidden), UncheckedTensor(try m.lm_head.output))
            }
        }
        #expect(stats.sharedForwards == 1 && stats.largestBatch == 2, "the two traces did not share a forward: \(stats)")
        for (index, result) in results.enumerated() {
            let (hidden, logits) = try result.get()
            #expect(try maxAbsDifference(hidden.tensor, expected[index].0) < 1e-5, "client \(index)")
            #expect(try maxAbsDifference(logits.tensor, expected[index].1) < 1e-4, "client \(index)")
        }
    }

    /// The first invoke of the second test: reads `h.0` and patches its last position.
    static func patch(_ m: Envoy, _ value: Float) throws {
        _ = try m.transformer.h[0].output
        try m.transformer.h[0].output[0..., -1] = .scalar(value)
    }

    /// The second invoke: what it sees at `h.0`, and the logits.
    static func read(_ m: Envoy) throws -> (Tensor, Tensor) { (try m.transformer.h[0].output.clone(), try m.lm_head.output) }

    /// A trace's later invoke is never sent a value ahead of its turn while an earlier invoke of
    /// the same trace could still change it: a patch by the first invoke is seen by the second,
    /// in a batch shared with another client doing the same, exactly as locally.
    @Test func aLaterInvokeSeesItsEarlierInvokesPatchInASharedBatch() async throws {
        let local = try Fixtures.localModel()
        let expected = try Self.prompts.enumerated().map { index, prompt in
            var seen: (Tensor, Tensor)?
            try local.trace { t in
                try t.invoke(prompt) { m in try Self.patch(m, Float(index + 2)) }
                try t.invoke { m in seen = try Self.read(m) }
            }
            return seen!
        }
        var configuration = ServerConfiguration()
        configuration.batchWindow = .seconds(2)
        let (results, stats) = try await clientsTogether(2, on: configuration) { remote, index in
            var seen: (Tensor, Tensor)?
            try remote.trace { t in
                try t.invoke(Self.prompts[index]) { m in try Self.patch(m, Float(index + 2)) }
                try t.invoke { m in seen = try Self.read(m) }
            }
            return (UncheckedTensor(seen!.0), UncheckedTensor(seen!.1))
        }
        #expect(stats.sharedForwards == 1, "the two traces did not share a forward: \(stats)")
        for (index, result) in results.enumerated() {
            let (hidden, logits) = try result.get()
            #expect(try hidden.tensor.equal(expected[index].0), "client \(index)")
            #expect(try maxAbsDifference(logits.tensor, expected[index].1) < 1e-4, "client \(index)")
        }
    }
}

/// Threads that each wait, for a bounded time, until all have arrived.
final class Meeting: @unchecked Sendable {
    private let condition = NSCondition()
    private var missing: Int
    init(_ count: Int) { missing = count }

    /// Arrives and waits for the others; false when they did not all arrive within `seconds`.
    func arrive(waitingAtMost seconds: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        missing -= 1
        if missing == 0 { condition.broadcast() }
        let end = Date(timeIntervalSinceNow: seconds)
        while missing > 0 {
            if !condition.wait(until: end) { return missing == 0 }
        }
        return true
    }
}

struct MeetingMissed: Error, CustomStringConvertible {
    let description: String
}

/// Clients of one batched generation that wait for the same step are all sent its `ack` before
/// the server waits for any of their next messages.
struct EarlyStepAckTests {
    /// Six token ids per client (equal lengths: the generations share forwards).
    static func prompt(_ client: Int) -> [Int] { (0..<6).map { 17 + 61 * client + 13 * $0 } }

    /// Each client, having begun step 1, waits until the other has begun it too. If the server
    /// acknowledged one client at a time (ack, await that client's next message, then the next
    /// ack), the first client would wait for an ack that comes only after its own next message:
    /// the wait runs out and the generation fails.
    @Test func everyClientWaitingForAStepIsAcknowledgedBeforeAnyIsAwaited() async throws {
        let local = try Fixtures.localModel()
        let expected = try (0..<2).map { client in
            try local.generate(Self.prompt(client), maxNewTokens: 3, stopAtEOS: false) { m, t in
                var logits: [Tensor] = []
                for _ in t.iter(0..<3) { logits.append(try m.lm_head.output) }
                return logits + [try t.result()]
            }
        }
        var configuration = ServerConfiguration()
        configuration.batchWindow = .seconds(2)
        configuration.clientDeadline = .seconds(60)
        let meeting = Meeting(2)
        let (results, stats) = try await clientsTogether(2, on: configuration) { remote, client in
            return try remote.generate(Self.prompt(client), maxNewTokens: 3, stopAtEOS: false) { m, t in
                var logits: [Tensor] = []
                for step in t.iter(0..<3) {
                    if step == 1, !meeting.arrive(waitingAtMost: 20) {
                        throw MeetingMissed(description: "client \(client) began step 1 and waited 20 s without the other client beginning it")
                    }
                    logits.append(try m.lm_head.output)
                }
                return (logits + [try t.result()]).map(UncheckedTensor.init)
            }
        }
        #expect(stats.sharedForwards == 1 && stats.largestBatch == 2, "the two generations did not share a forward: \(stats)")
        for (client, result) in results.enumerated() {
            let values = try result.get().map(\.tensor)
            #expect(values.count == 4)
            #expect(try values[3].equal(expected[client][3]), "client \(client): ids")
            for step in 0..<3 { #expect(try maxAbsDifference(values[step], expected[client][step]) < 1e-4, "client \(client) step \(step)") }
        }
    }
}
