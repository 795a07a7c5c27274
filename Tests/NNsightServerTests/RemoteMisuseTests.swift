import Foundation
import Logging
import NNsight
@testable import NNsightRemote
import NNsightServer
import NNsightTorch
import Testing

/// Misuse of the new operations: the same typed error as locally (or a typed protocol error
/// where only a client can send it), and the server keeps serving.
struct RemoteMisuseTests {
    @Test func misuseScenariosRaiseTheErrorTheyNameLocally() throws {
        let local = try Fixtures.localModel()
        let expectations = [
            "misuse: a read after all() ended is out of order": "already ran past it",
            "misuse: an open-ended loop outside generation": "an open-ended iter needs generate",
            "misuse: reading a module the cache did not record": "'model.transformer.ln_f' was not cached",
            "misuse: a barrier that never fills": "waiting for 3 invokes was reached by only 2",
            "misuse: result() outside an invoke": "outside of interleaving",
            "stop: a later invoke's read is missed": "was not provided",
        ]
        let scenarios = TracerScenarios.generation + TracerScenarios.cacheAndScan + TracerScenarios.editsSessionsBarriers
        for (name, fragment) in expectations {
            let scenario = try #require(scenarios.first { $0.name == name })
            let text = try scenario.run(local).last.map { String(decoding: try $0.toArray(Int.self).map(UInt8.init), as: UTF8.self) }
            #expect(text?.hasPrefix("NNsightError: ") == true, "\(name)")
            #expect(text?.contains(fragment) == true, "\(name): \(text ?? "nothing")")
        }
    }

    @Test func misuseInARemoteGenerationLeavesTheHandleAndServerServing() async throws {
        let local = try Fixtures.localModel()
        let expected = try local.generate(Scenarios.prompt, maxNewTokens: 2) { _, t in try t.result() }
        let (error, after) = try await withServer { url, _ in
            let remote = try RemoteModel(url: url)
            let error = Result {
                try remote.generate(Scenarios.prompt, maxNewTokens: 3) { m, t in
                    _ = try m.transformer.h[1].output
                    return try m.transformer.h[0].output
                }
            }
            let after = try remote.generate(Scenarios.prompt, maxNewTokens: 2) { _, t in try t.result() }
            return (error.map { UncheckedTensor($0) }, UncheckedTensor(after))
        }
        guard case .failure(NNsightError.outOfOrder(let requester)) = error else {
            Issue.record("expected outOfOrder, got \(error)")
            return
        }
        #expect(requester == "model.transformer.h.0.output.i0")
        #expect(try after.tensor.equal(expected))
    }

    @Test func anUnknownModuleInACacheListIsATypedErrorAndTheServerKeepsServing() async throws {
        let local = try Fixtures.localModel()
        let expected = try local.trace(Scenarios.prompt) { m in try m.lm_head.output }
        let (refusal, ended, after) = try await withServer { url, _ in
            let remote = try RemoteModel(url: url)
            let connection = remote.connection
            var trace = WireMessage(kind: .trace, trace: 900)
            trace.invokes = [InvokeInput(texts: [Scenarios.prompt])]
            try connection.send(trace)
            let invoke = connection.mailbox(.init(trace: 900, invoke: 0))
            let status = connection.mailbox(.init(trace: 900, invoke: -1))
            let deadline = Date(timeIntervalSinceNow: 120)
            guard case .message(let start, _) = invoke.take(before: deadline), start.kind == .start else {
                return (WireMessage(kind: .error), WireMessage(kind: .error), UncheckedTensor(try Tensor.zeros([1])))
            }
            var cache = WireMessage(kind: .cache, trace: 900, invoke: 0)
            cache.cache = 0
            cache.paths = ["model.transformer.h.0", "model.transformer.nonexistent"]
            try connection.send(cache)
            guard case .message(let refusal, _) = invoke.take(before: deadline) else {
                return (WireMessage(kind: .error), WireMessage(kind: .error), UncheckedTensor(try Tensor.zeros([1])))
            }
            // A step number out of range is refused the same way; then the invoke ends normally.
            var step = WireMessage(kind: .step, trace: 900, invoke: 0)
            step.step = -1
            try connection.send(step)
            _ = invoke.take(before: deadline)
            try connection.send(WireMessage(kind: .finished, trace: 900, invoke: 0))
            var ended = WireMessage(kind: .error)
            while case .message(let event, _) = status.take(before: deadline) {
                if event.kind == .status, event.state == .completed || event.state == .error { ended = event; break }
            }
            let after = try remote.trace(Scenarios.prompt) { m in try m.lm_head.output }
            return (refusal, ended, UncheckedTensor(after))
        }
        #expect(refusal.kind == .error)
        #expect(refusal.code == .unknownModule)
        #expect(refusal.message?.contains("nonexistent") == true)
        #expect(ended.state == .completed)
        #expect(try after.tensor.equal(expected))
    }

    @Test func gradientsThroughServerTensorsAreATypedError() async throws {
        let error = try await withServer { url, _ in
            let remote = try RemoteModel(url: url)
            do {
                try remote.trace(Scenarios.prompt) { m in
                    let hidden = try m.transformer.h[1].output
                    try hidden.requiresGrad_()
                    try (hidden * 2).sum().backward { g in _ = try g.grad(of: hidden) }
                }
                return "no error"
            } catch let error as RemoteError {
                guard case .notAvailableRemotely = error else { return "wrong case: \(error)" }
                return "\(error)"
            }
        }
        #expect(error.contains("gradients through the server's tensors is not available on a remote model"))
    }

    @Test func aVersionTwoClientIsRefusedNamingBothVersions() async throws {
        let refusal = try await withServer { url, _ in
            let connection = RemoteConnection(url: url, logger: Logger(label: "test"))
            defer { connection.shutDown() }
            var hello = WireMessage(kind: .hello)
            hello.protocolVersion = 2
            hello.libraryVersion = "0.1.0"
            try connection.send(hello)
            guard case .message(let message, _) = connection.mailbox(.init(trace: -1, invoke: -1)).take(before: Date(timeIntervalSinceNow: 120)) else {
                return WireMessage(kind: .error)
            }
            return message
        }
        #expect(RemoteProtocol.version == 3)
        #expect(refusal.code == .versionMismatch)
        #expect(refusal.protocolVersion == 3)
        #expect(refusal.message?.contains("the client speaks protocol 2") == true)
        #expect(refusal.message?.contains("this server protocol 3") == true)
        // The client side names both too.
        let error = RemoteError.versionMismatch(client: 2, clientLibrary: "0.1.0", server: refusal.protocolVersion ?? -1,
                                                serverLibrary: refusal.libraryVersion ?? "")
        #expect(error.description.contains("this client speaks protocol 2") && error.description.contains("the server protocol 3"))
    }

    @Test func aNewTokenCountOverTheKeysLimitIsRefused() async throws {
        var configuration = ServerConfiguration()
        configuration.defaultLimits.newTokens = 2
        let code = try await withServer(configuration) { url, _ in
            let remote = try RemoteModel(url: url)
            do {
                try remote.generate(Scenarios.prompt, maxNewTokens: 3) { _, _ in }
                return RemoteErrorCode.server
            } catch let RemoteError.protocolError(code, _) {
                return code
            }
        }
        #expect(code == .limitExceeded)
    }
}
