import Foundation
import NNsight
import NNsightRemote
import NNsightSafeTensors
import NNsightServer
import NNsightTorch
import Testing

/// Capture jobs: submitted without waiting, run on the server, fetched later as safetensors.
struct CaptureTests {
    /// `job`'s file, fetched by `remote` once the server has it (asked every 10 ms, at most 2,000
    /// times).
    static func result(of job: CaptureJob, from remote: RemoteModel) throws -> SafeTensorsFile {
        for _ in 0..<2000 {
            switch try remote.captureResult(job) {
            case .ready(let bytes): return try SafeTensorsFile(data: bytes)
            case .failed(let message): throw RemoteError.protocolError(.server, message)
            case .pending: Thread.sleep(forTimeInterval: 0.01)
            }
        }
        throw StillPending(job: job)
    }

    struct StillPending: Error { let job: CaptureJob }

    @Test func aCaptureJobReturnsTheModulesOutputsAsSafetensors() async throws {
        let prompts = [Scenarios.prompt, Scenarios.other]
        let modules = ["model.transformer.h.0", "model.transformer.ln_f"]
        let local = try Fixtures.localModel()
        let expected = try prompts.map { prompt in
            try local.trace(prompt) { m in [try m.transformer.h[0].output, try m.transformer.ln_f.output] }
        }
        var configuration = ServerConfiguration()
        configuration.keys = APIKeys(entries: [.init(name: "alice", sha256: APIKeys.hash("a")), .init(name: "bob", sha256: APIKeys.hash("b"))])
        let (job, file, otherKey, unknownModule) = try await withServer(configuration) { url, _ in
            let alice = try RemoteModel(url: url, apiKey: "a")
            let job = try alice.capture(prompts, modules: modules)
            let file = try Self.result(of: job, from: alice)
            let otherKey = Result { try RemoteModel(url: url, apiKey: "b").captureResult(job) }.map { _ in () }
            let unknownModule = Result { try alice.capture(prompts, modules: ["model.transformer.h.7"]) }.map { _ in () }
            return (job, file, otherKey, unknownModule)
        }
        #expect(job.keptForSeconds == 3600)
        for (index, values) in expected.enumerated() {
            for (module, value) in zip(modules, values) {
                let stored = try file.tensor("\(index).\(module)")
                #expect(stored.shape == value.shape)
                let tensor = try stored.withUnsafeBytes { try Tensor(bytes: $0, shape: stored.shape, dtype: .float32) }
                #expect(try tensor.equal(value), "\(index).\(module)")
            }
        }
        guard case .failure(RemoteError.protocolError(let code, _)) = otherKey else {
            Issue.record("another key fetched the job: \(otherKey)")
            return
        }
        #expect(code == .unexpectedMessage)
        guard case .failure(RemoteError.protocolError(let moduleCode, _)) = unknownModule else {
            Issue.record("a capture of an unknown module was accepted")
            return
        }
        #expect(moduleCode == .unknownModule)
    }

    /// A capture job takes operations of a module's `.source` beside modules; an unknown
    /// operation, or a module without `.source`, is refused at submission, naming it.
    @Test func aCaptureJobRecordsSourceOperations() async throws {
        let modules = ["model.transformer.h.0.attn.source.pattern_0", "model.transformer.h.1.mlp.source.self_act_0",
                       "model.transformer.h.1"]
        let local = try Fixtures.localModel()
        let expected = try local.trace(Scenarios.prompt) { m in
            [try m.transformer.h[0].attn.source.pattern_0.output, try m.transformer.h[1].mlp.source.self_act_0.output,
             try m.transformer.h[1].output]
        }
        let (file, refusals) = try await withServer { url, _ in
            let remote = try RemoteModel(url: url)
            let file = try Self.result(of: remote.capture([Scenarios.prompt], modules: modules), from: remote)
            let refusals = ["model.transformer.h.0.attn.source.nonexistent_0", "model.transformer.ln_f.source.x_0",
                            "model.transformer.h.0.attn.source.fusedAttention_0.source.F_scaledDotProductAttention_0"].map { path in
                do {
                    _ = try remote.capture([Scenarios.prompt], modules: [path])
                    return "accepted"
                } catch {
                    return "\(error)"
                }
            }
            return (file, refusals)
        }
        for (module, value) in zip(modules, expected) {
            let stored = try file.tensor("0.\(module)")
            #expect(stored.shape == value.shape, "\(module)")
            let tensor = try stored.withUnsafeBytes { try Tensor(bytes: $0, shape: stored.shape, dtype: .float32) }
            #expect(try tensor.equal(value), "\(module)")
        }
        #expect(refusals[0].hasPrefix("remote unknownModule:") && refusals[0].contains("has no operation nonexistent_0"), "\(refusals[0])")
        #expect(refusals[1].hasPrefix("remote unknownModule:") && refusals[1].contains("has no .source"), "\(refusals[1])")
        #expect(refusals[2].hasPrefix("remote unknownModule:"), "\(refusals[2])")
    }
}
