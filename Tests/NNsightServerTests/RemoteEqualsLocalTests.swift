import Foundation
import NNsight
import NNsightRemote
import NNsightServer
import NNsightTorch
import Testing

/// The shared scenario suite, run against a local model and against the same model served on
/// 127.0.0.1: every value equal.
struct RemoteEqualsLocalTests {
    @Test func scenariosGiveTheSameValuesRemoteAndLocal() async throws {
        let local = try Fixtures.localModel()
        let expected = try Scenarios.all.map { try $0.run(local) }
        let got = try await withServer { url, _ in
            let remote = try RemoteModel(url: url)
            return try Scenarios.all.map { scenario in
                try scenario.run(remote).map { UncheckedTensor($0) }
            }
        }
        for (index, scenario) in Scenarios.all.enumerated() {
            let values = got[index].map(\.tensor)
            #expect(values.count == expected[index].count, "\(scenario.name)")
            for (remote, local) in zip(values, expected[index]) {
                #expect(remote.shape == local.shape, "\(scenario.name)")
                #expect(try maxAbsDifference(remote, local) == 0, "\(scenario.name)")
            }
        }
    }

    @Test func generationScenariosGiveTheSameValuesRemoteAndLocal() async throws {
        try await expectRemoteEqualsLocal(TracerScenarios.generation)
    }

    @Test func cacheAndScanScenariosGiveTheSameValuesRemoteAndLocal() async throws {
        try await expectRemoteEqualsLocal(TracerScenarios.cacheAndScan)
    }

    @Test func editSessionStopAndBarrierScenariosGiveTheSameValuesRemoteAndLocal() async throws {
        try await expectRemoteEqualsLocal(TracerScenarios.editsSessionsBarriers)
    }

    @Test func aRemoteScanGivesMetaValuesAndRunsNoForward() async throws {
        let (device, shape, forwards) = try await withServer { url, server in
            let remote = try RemoteModel(url: url)
            let value = try remote.scan(Scenarios.prompt) { m in try m.lm_head.output }
            return (value.device, value.shape, server.stats.forwards)
        }
        let local = try Fixtures.localModel()
        #expect(device == .meta)
        #expect(shape == (try local.scan(Scenarios.prompt) { m in try m.lm_head.output }.shape))
        // One scheduled run, on the meta twin (its values carry no data).
        #expect(forwards == 1)
    }

    /// Runs `scenarios` on a local model and on the same model served on 127.0.0.1; expects
    /// every value equal (errors compare as their text).
    private func expectRemoteEqualsLocal(_ scenarios: [TracerScenario]) async throws {
        let local = try Fixtures.localModel()
        let expected = try scenarios.map { scenario in
            try scenario.run(local).map { try $0.device == .meta ? $0.shapeAndDType() : $0 }
        }
        let got = try await withServer { url, _ in
            let remote = try RemoteModel(url: url)
            return scenarios.map { scenario in
                Result { try scenario.run(remote).map { UncheckedTensor($0) } }
            }
        }
        for (index, scenario) in scenarios.enumerated() {
            let values: [Tensor]
            switch got[index] {
            case .success(let tensors): values = tensors.map(\.tensor)
            case .failure(let error):
                Issue.record("\(scenario.name): remote failed with \(error)")
                continue
            }
            #expect(values.count == expected[index].count, "\(scenario.name)")
            for (remote, local) in zip(values, expected[index]) {
                #expect(remote.shape == local.shape, "\(scenario.name)")
                #expect(remote.dtype == local.dtype, "\(scenario.name)")
                #expect(try remote.equal(local), "\(scenario.name)")
                if remote.dtype == .int64, local.dtype == .int64, remote.rank == 1, try !remote.equal(local) {
                    // An error's text: show both.
                    let text = { (t: Tensor) in String(decoding: try t.toArray(Int.self).map(UInt8.init), as: UTF8.self) }
                    Issue.record("\(scenario.name): remote \(try text(remote)) / local \(try text(local))")
                }
            }
        }
    }

    @Test func moduleTreePrintsAndNavigatesAsLocal() async throws {
        let local = try Fixtures.localModel()
        let (printed, paths, unknown) = try await withServer { url, _ in
            let remote = try RemoteModel(url: url)
            let unknown: String
            do {
                _ = try remote.root.transformer.nonexistent
                unknown = ""
            } catch {
                unknown = "\(error)"
            }
            return (remote.root.description, remote.root.namedModules().map(\.path), unknown)
        }
        #expect(printed == local.root.description)
        #expect(paths == local.root.namedModules().map(\.path))
        #expect(unknown.contains("has no child \"nonexistent\""))
    }

    @Test func stopEndsTheInvokeAndKeepsWhatWasRead() async throws {
        let local = try Fixtures.localModel()
        let expected = try local.trace(Scenarios.prompt) { m in try m.transformer.h[0].output }
        let (value, after) = try await withServer { url, _ in
            let remote = try RemoteModel(url: url)
            var kept: Tensor!
            try remote.trace(Scenarios.prompt) { (m, t) -> Void in
                kept = try m.transformer.h[0].output
                try t.stop()
            }
            // The handle keeps working after a stopped trace.
            let after = try remote.trace(Scenarios.prompt) { m in try m.transformer.h[0].output }
            return (UncheckedTensor(kept), UncheckedTensor(after))
        }
        #expect(try value.tensor.equal(expected))
        #expect(try after.tensor.equal(expected))
    }

    @Test func writesOfTheWrongShapeOrDtypeAreTypedErrors() async throws {
        let codes = try await withServer { url, _ in
            let remote = try RemoteModel(url: url)
            var codes: [RemoteErrorCode] = []
            for bad in [try Tensor.zeros([1, 2, 3]), try Tensor.zeros([1, 6, 64], dtype: .float64)] {
                do {
                    try remote.trace(Scenarios.prompt) { m in try m.transformer.h[0].setOutput(bad) }
                } catch let RemoteError.protocolError(code, _) {
                    codes.append(code)
                }
            }
            // The server still serves this client.
            _ = try remote.trace(Scenarios.prompt) { m in try m.lm_head.output }
            return codes
        }
        #expect(codes == [.tensorMismatch, .tensorMismatch])
    }

    @Test func gradientsAndNamedArgumentsAreTypedErrorsRemotely() async throws {
        let message = try await withServer { url, _ in
            let remote = try RemoteModel(url: url)
            do {
                _ = try remote.trace(Scenarios.prompt) { m in try m.transformer.h[0].inputs }
                return ""
            } catch let error as RemoteError {
                guard case .notAvailableRemotely = error else { return "wrong case: \(error)" }
                return "\(error)"
            }
        }
        #expect(message.contains("not available on a remote model"))
    }
}

/// Tensors cross from the test's thread to the test (their storage is not shared after).
struct UncheckedTensor: @unchecked Sendable {
    let tensor: Tensor
    init(_ tensor: Tensor) { self.tensor = tensor }
}
