import Foundation
import NNsight
import NNsightRemote
import NNsightServer
import NNsightTorch
import Testing

/// Generations of several clients: those whose settings keep every value equal to a local run
/// share forwards; the others run alone.
struct GenerationCoBatchingTests {
    /// Four prompts of six token ids each (equal lengths: nobody's rows are padded differently).
    static let prompts: [[Int]] = (0..<4).map { client in (0..<6).map { 11 + 37 * client + 5 * $0 } }

    /// Each client zeroes part of layer 0's MLP at step 1 and reads step 2's logits and the ids.
    static func intervention(_ m: Envoy, _ t: any ScenarioTracer) throws -> [Tensor] {
        for _ in t.iter(1..<2) { try m.transformer.h[0].mlp.output[.ellipsis, 0..<16] = 0 }
        var logits: Tensor!
        for _ in t.iter(2) { logits = try m.lm_head.output }
        return [logits, try t.result()]
    }

    static func generations(stopAtEOS: Bool) async throws -> (expected: [[Tensor]], got: [[Tensor]], stats: ServerStatistics) {
        let local = try Fixtures.localModel()
        let expected = try prompts.map { prompt in
            try local.generate(prompt, maxNewTokens: 4, stopAtEOS: stopAtEOS) { m, t in try intervention(m, t) }
        }
        var configuration = ServerConfiguration()
        configuration.batchWindow = .seconds(2)
        configuration.defaultLimits.concurrentTraces = 8
        let (results, stats) = try await clientsTogether(prompts.count, on: configuration) { remote, index in
            return try remote.generate(prompts[index], maxNewTokens: 4, stopAtEOS: stopAtEOS) { m, t in
                try intervention(m, t).map(UncheckedTensor.init)
            }
        }
        return (expected, try results.map { try $0.get().map(\.tensor) }, stats)
    }

    @Test func greedyGenerationsWithoutEOSStopShareForwardsAndEqualLocal() async throws {
        let (expected, got, stats) = try await Self.generations(stopAtEOS: false)
        for (client, values) in got.enumerated() {
            // The generated ids are exactly the local ones; the logits equal to float rounding of
            // a larger batch (as the co-batched traces' are).
            #expect(try values[1].equal(expected[client][1]), "client \(client)")
            #expect(try maxAbsDifference(values[0], expected[client][0]) < 1e-4, "client \(client)")
        }
        #expect(stats.traces == 4)
        #expect(stats.sharedForwards >= 1)
        #expect(stats.forwards < stats.traces)
    }

    @Test func generationsThatStopAtEOSRunAloneAndEqualLocalExactly() async throws {
        let (expected, got, stats) = try await Self.generations(stopAtEOS: true)
        for (client, values) in got.enumerated() {
            for (remote, local) in zip(values, expected[client]) { #expect(try remote.equal(local), "client \(client)") }
        }
        #expect(stats.traces == 4)
        #expect(stats.forwards == 4)
        #expect(stats.sharedForwards == 0)
    }
}
