import Foundation
import NNsight
import NNsightRemote
import NNsightServer
import NNsightTorch
import Testing

/// Barriers and caches of several clients in one shared forward: each client's barrier gathers
/// only its own invokes, each cache only its own rows.
struct CoBatchedTracerTests {
    static let clients = 3

    /// Two prompts of six token ids per client (equal lengths: the traces share forwards).
    static func prompts(_ client: Int) -> (source: [Int], target: [Int]) {
        ((0..<6).map { 7 + 41 * client + 3 * $0 }, (0..<6).map { 200 + 29 * client + 7 * $0 })
    }

    struct Missing: Error {}

    /// The source invoke caches layer 0 and reads the embeddings; at the barrier the target
    /// invoke takes them (doubled) and reads the logits.
    static func run(_ model: any TracerScenarioModel, client: Int) throws -> [Tensor] {
        var embeddings: Tensor?, logits: Tensor?, cache: Cache?
        let (source, target) = prompts(client)
        try model.runOpen(.forward) { t, invoke in
            let barrier = t.barrier(2)
            try invoke(source) { m in
                cache = try t.cache(modules: [try m.transformer.h[0]], includeInputs: false, includeOutputs: true)
                embeddings = try m.transformer.wte.output
                try barrier()
            }
            try invoke(target) { m in
                try barrier()
                guard let embeddings else { throw Missing() }
                try m.transformer.wte.setOutput(embeddings * 2)
                logits = try m.lm_head.output
            }
        }
        guard let embeddings, let logits, let cache else { throw Missing() }
        return [embeddings, logits, try cache["model.transformer.h.0"].output]
    }

    @Test func barriersAndCachesStayWithinEachClientOfASharedForward() async throws {
        let local = try Fixtures.localModel()
        let expected = try (0..<Self.clients).map { try Self.run(local, client: $0) }
        var configuration = ServerConfiguration()
        configuration.batchWindow = .seconds(2)
        let (results, stats) = try await clientsTogether(Self.clients, on: configuration) { remote, client in
            return try Self.run(remote, client: client).map(UncheckedTensor.init)
        }
        for client in 0..<Self.clients {
            let values = try results[client].get().map(\.tensor)
            #expect(values.count == 3)
            try expectLocalValues(values, expected[client], client: client)
        }
        #expect(stats.sharedForwards >= 1)
    }
}
