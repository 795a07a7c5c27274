import Foundation
import NNsight
import NNsightRemote
import NNsightServer
import NNsightTorch
import Testing

/// Skips in a forward shared by several clients: a client's skip becomes a replaced output of its
/// rows (docs/remote-protocol.md, "Skips"), so every value it reads after the
/// module, and every value the other clients read, equals its local trace's.
struct CoBatchedSkipTests {
    /// Six token ids per client (equal lengths: the traces share forwards).
    static func prompt(_ client: Int) -> [Int] { (0..<6).map { 5 + 53 * client + 11 * $0 } }

    /// Client 0 skips layer 1 with layer 0's output, client 1 does not skip, client 2 skips it
    /// with zeros; each reads what follows layer 1.
    static func run(_ model: any TracerScenarioModel, client: Int) throws -> [Tensor] {
        var values: [Tensor] = []
        try model.runOpen(.forward) { _, invoke in
            try invoke(prompt(client)) { m in
                let h0 = try m.transformer.h[0].output
                switch client {
                case 0: try m.transformer.h[1].skip(h0)
                case 2: try m.transformer.h[1].skip(try Tensor.zeros(h0.shape))
                default: values.append(try m.transformer.h[1].output)
                }
                values += [try m.transformer.ln_f.input, try m.lm_head.output]
            }
        }
        return values
    }

    @Test func skipsInASharedForwardEqualLocalSkips() async throws {
        let clients = 3
        let local = try Fixtures.localModel()
        let expected = try (0..<clients).map { try Self.run(local, client: $0) }
        var configuration = ServerConfiguration()
        configuration.batchWindow = .seconds(2)
        let (results, stats) = try await clientsTogether(clients, on: configuration) { remote, client in
            return try Self.run(remote, client: client).map(UncheckedTensor.init)
        }
        for client in 0..<clients {
            try expectLocalValues(try results[client].get().map(\.tensor), expected[client], client: client)
        }
        #expect(stats.sharedForwards >= 1)
        #expect(stats.largestBatch == clients)
    }

    /// What differs from a local skip, as documented: in a shared forward the skipped module
    /// still runs for the client's rows, and the skip is applied to its output once it ran, so a
    /// read of its child after the skip at that call is `outOfOrder` (the child ran before the
    /// skip took effect); locally, and on a server that runs the trace alone, the child never
    /// runs and the read is `missed`.
    @Test func aChildOfAModuleSkippedInASharedForwardRanBeforeTheSkip() async throws {
        var configuration = ServerConfiguration()
        configuration.batchWindow = .seconds(2)
        let outcomes = try await withServer(configuration) { url, server in
            return try clientsTogether(2, url: url) { remote, client -> String in
                return try remote.trace(Self.prompt(client)) { m -> String in
                    let h0 = try m.transformer.h[0].output
                    if client == 1 { return "\(try m.lm_head.output.shape)" }
                    try m.transformer.h[1].skip(h0)
                    do {
                        return "\(try m.transformer.h[1].mlp.output.shape)"
                    } catch {
                        return "\(error)"
                    }
                } + " shared \(server.stats.sharedForwards)"
            }
        }
        let local = try Fixtures.localModel()
        let alone: String
        do {
            alone = try local.trace(Self.prompt(0)) { m in
                try m.transformer.h[1].skip(try m.transformer.h[0].output)
                return "\(try m.transformer.h[1].mlp.output.shape)"
            }
        } catch {
            alone = "\(error)"
        }
        #expect(alone.contains("was not provided"), "locally: \(alone)")
        // Both traces ran in one shared forward; the skipping client's read came too late.
        let shared = try outcomes[0].get()
        #expect(shared.hasPrefix("`model.transformer.h.1.mlp.output.i0` was requested but the model already ran past it"), "\(shared)")
        #expect(shared.hasSuffix(" shared 1"))
        #expect(try outcomes[1].get().hasSuffix(" shared 1"))
    }
}
