import Foundation
import NNsight
import NNsightNN
import NNsightRemote
import NNsightServer
import NNsightTorch
import Testing

/// `.source` operations in a forward shared by several clients: each client reads and writes its
/// own rows of an operation, and nothing one client asks of an operation (a value that is not a
/// tensor, a recursive scope the server cannot check yet) can fail another client's forward.
struct CoBatchedSourceTests {
    /// Six token ids per client (equal lengths: the traces share forwards).
    static func prompt(_ client: Int) -> [Int] { (0..<6).map { 9 + 47 * client + 7 * $0 } }

    /// Client 0 halves layer 0's attention pattern; client 1 reads an operation whose value is a
    /// list (its read fails, the forward goes on); client 2 reads the pattern and an MLP operation.
    static func run(_ model: any TracerScenarioModel, client: Int) throws -> [Tensor] {
        var values: [Tensor] = []
        try model.runOpen(.forward) { _, invoke in
            try invoke(prompt(client)) { m in
                let attention = try m.transformer.h[0].attn.source
                switch client {
                case 0:
                    let pattern = try attention.pattern_0.output
                    try attention.pattern_0.setOutput(pattern * 0.5)
                case 1:
                    do {
                        _ = try attention.qkv_0.output
                    } catch let error as SourceError {
                        values.append(try .text("\(error)"))
                    }
                default:
                    values += [try attention.pattern_0.output, try m.transformer.h[1].mlp.source.self_act_0.output]
                }
                values.append(try m.lm_head.output)
            }
        }
        return values
    }

    @Test func sourceOperationsInASharedForwardEqualLocal() async throws {
        let clients = 3
        let local = try Fixtures.localModel()
        let expected = try (0..<clients).map { try Self.run(local, client: $0) }
        var configuration = ServerConfiguration()
        configuration.batchWindow = .seconds(2)
        let (results, stats) = try await clientsTogether(clients, on: configuration) { remote, client in
            return try Self.run(remote, client: client).map(UncheckedTensor.init)
        }
        #expect(stats.sharedForwards == 1 && stats.largestBatch == clients, "\(stats)")
        // Client 1's read failed with the local error: the operation's value is a list.
        let text = try results[1].get()[0].tensor.toArray(Int.self).map { Character(UnicodeScalar(UInt8($0))) }
        #expect(String(text).hasPrefix("model.transformer.h.0.attn.source.qkv_0: its output is a "), "\(String(text))")
        #expect(String(text).hasSuffix(", not a Tensor; only tensor values can be read or replaced"), "\(String(text))")
        for client in 0..<clients {
            try expectLocalValues(try results[client].get().map(\.tensor), expected[client], client: client)
        }
    }

    /// A recursive `.source` whose function has not yet run on the server is refused in a shared
    /// forward (its names could only be checked inside the model's call, failing every client's
    /// forward); the other client completes, and once a trace of its own has bound the scope,
    /// the same read is served in a shared forward too.
    @Test func anUnboundRecursiveSourceIsRefusedInASharedForwardOnly() async throws {
        let local = try Fixtures.localModel()
        let expected = try local.trace(Self.prompt(0)) { m in
            try m.transformer.h[0].attn.source.fusedAttention_0.source.F_scaledDotProductAttention_0.output
        }
        var configuration = ServerConfiguration()
        configuration.batchWindow = .seconds(2)
        let outcomes = try await withServer(configuration) { url, server in
            func together() throws -> [Result<UncheckedTensor, any Error>] {
                return try clientsTogether(2, url: url) { remote, client in
                    return UncheckedTensor(try remote.trace(Self.prompt(client)) { m in
                        client == 0 ? try m.transformer.h[0].attn.source.fusedAttention_0.source.F_scaledDotProductAttention_0.output
                                    : try m.lm_head.output
                    })
                }
            }
            let before = try together()
            // Alone, the scope is bound by its first run.
            let alone = try RemoteModel(url: url).trace(Self.prompt(0)) { m in
                try m.transformer.h[0].attn.source.fusedAttention_0.source.F_scaledDotProductAttention_0.output
            }
            let after = try together()
            return (before, UncheckedTensor(alone), after, server.stats.sharedForwards)
        }
        let (before, alone, after, shared) = outcomes
        #expect(shared == 2)
        guard case .failure(RemoteError.protocolError(let code, let message)) = before[0] else {
            Issue.record("an unbound recursive scope was served in a shared forward: \(before[0])")
            return
        }
        #expect(code == .unknownModule)
        #expect(message.contains("has not run on the server yet"), "\(message)")
        #expect(throws: Never.self) { try before[1].get() }
        #expect(try alone.tensor.equal(expected))
        #expect(try maxAbsDifference(try after[0].get().tensor, expected) < 1e-4)
        #expect(throws: Never.self) { try after[1].get() }
    }
}
