import Foundation
import NNsight
import NNsightRemote
import NNsightSafeTensors
import NNsightServer
import NNsightTorch
import Testing

/// Capture jobs: submitted without waiting, run on the server, fetched later as safetensors.
struct CaptureTests {
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
            var data: Data?
            for _ in 0..<2000 where data == nil {
                switch try alice.captureResult(job) {
                case .ready(let bytes): data = bytes
                case .failed(let message): throw RemoteError.protocolError(.server, message)
                case .pending: Thread.sleep(forTimeInterval: 0.01)
                }
            }
            let otherKey = Result { try RemoteModel(url: url, apiKey: "b").captureResult(job) }.map { _ in () }
            let unknownModule = Result { try alice.capture(prompts, modules: ["model.transformer.h.7"]) }.map { _ in () }
            return (job, try SafeTensorsFile(data: try #require(data)), otherKey, unknownModule)
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
}
