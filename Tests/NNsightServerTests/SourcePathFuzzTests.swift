import Foundation
import Logging
import NNsight
@testable import NNsightRemote
import NNsightServer
import NNsightTorch
import Testing

/// Random `.source` paths, good and bad, read by hand inside a running trace: each is answered
/// (a value or a typed error), unchecked names cannot grow the server's envoy tree without
/// bound, and a normal client afterwards gets its local result.
struct SourcePathFuzzTests {
    static let heads = ["model.transformer.h.0.attn", "model.transformer.h.1.attn", "model.transformer.h.1.mlp", "model",
                        "model.transformer.ln_f", "model.transformer.h.0.attn.source.fusedAttention_0"]
    static let names = ["pattern_0", "scores_0", "qkv_0", "size_0", "self_c_fc_0", "fusedAttention_0", "nonexistent_0",
                        "F_scaledDotProductAttention_0", "", "a.b", "../x", "weighted_0", "x_0", "source", "0"]

    static func path(_ generator: inout SplitMix) -> String {
        var path = heads.randomElement(using: &generator)!
        for _ in 0..<Int.random(in: 0...3, using: &generator) {
            path += ".source." + names.randomElement(using: &generator)!
        }
        if Int.random(in: 0..<8, using: &generator) == 0 { path += ".source" }
        if Int.random(in: 0..<10, using: &generator) == 0 { path += ".source.op_" + String(repeating: "9", count: 300) }
        return path
    }

    @Test func randomSourcePathsAreAnsweredAndTheServerKeepsServing() async throws {
        let local = try Fixtures.localModel()
        let expected = try local.trace(Scenarios.prompt) { m in try m.transformer.h[0].attn.source.pattern_0.output }
        let (answers, sent, unboundRefusal, ends, after) = try await withServer { url, _ in
            let remote = try RemoteModel(url: url)
            let connection = remote.connection
            let deadline = Date(timeIntervalSinceNow: 300)
            /// Starts trace `number` over the prompt; its invoke's mailbox, or nil without a start.
            func begin(_ number: Int) throws -> Mailbox? {
                var trace = WireMessage(kind: .trace, trace: number)
                trace.invokes = [InvokeInput(texts: [Scenarios.prompt])]
                try connection.send(trace)
                let invoke = connection.mailbox(.init(trace: number, invoke: 0))
                guard case .message(let start, _) = invoke.take(before: deadline), start.kind == .start else { return nil }
                return invoke
            }
            /// Ends trace `number` and returns its final status.
            func end(_ number: Int) throws -> WireMessage {
                try connection.send(WireMessage(kind: .finished, trace: number, invoke: 0))
                let status = connection.mailbox(.init(trace: number, invoke: -1))
                while case .message(let event, _) = status.take(before: deadline) {
                    if event.kind == .status, event.state == .completed || event.state == .error { return event }
                }
                return WireMessage(kind: .error)
            }

            // Trace 5: a good read, then random paths.
            guard let invoke = try begin(5) else { throw RemoteError.connection("trace 5 did not start") }
            var generator = SplitMix(seed: 1313)
            var answers: [String: Int] = [:]
            let paths = ["model.transformer.h.0.attn.source.pattern_0"] + (0..<300).map { _ in Self.path(&generator) }
            for path in paths {
                var read = WireMessage(kind: .read, trace: 5, invoke: 0)
                read.path = path
                read.key = .output
                try connection.send(read)
                if case .message(let answer, _) = invoke.take(before: deadline),
                   answer.kind == .value || (answer.kind == .error && answer.code != nil) {
                    answers[answer.kind == .value ? "value" : answer.code!.rawValue, default: 0] += 1
                }
            }
            let first = try end(5)

            // Trace 6: 70 names in one scope not yet bound (caches name them without waiting for
            // the model): the 65th new name is refused.
            guard let capped = try begin(6) else { throw RemoteError.connection("trace 6 did not start") }
            var unboundRefusal = ""
            for index in 0..<70 {
                var cache = WireMessage(kind: .cache, trace: 6, invoke: 0)
                cache.cache = index
                cache.paths = ["model.transformer.h.1.attn.source.fusedAttention_0.source.op_\(index)"]
                try connection.send(cache)
                guard case .message(let answer, _) = capped.take(before: deadline) else { break }
                if answer.kind == .error, answer.message?.contains("already names 64 operations") == true {
                    unboundRefusal = "refused at \(index)"
                    break
                }
            }
            let second = try end(6)
            let after = try remote.trace(Scenarios.prompt) { m in try m.transformer.h[0].attn.source.pattern_0.output }
            return (answers, paths.count, unboundRefusal, [first, second], UncheckedTensor(after))
        }
        #expect(answers.values.reduce(0, +) == sent, "\(answers)")
        #expect(answers["unknownModule", default: 0] > 0, "\(answers)")
        #expect(unboundRefusal == "refused at 64")
        #expect(answers["value", default: 0] > 0, "\(answers)")
        // Each trace ends with a status (the second with the engine's unknownOperation when the
        // scope is bound to the function's real names).
        #expect(ends.allSatisfy { $0.kind == .status }, "\(ends)")
        #expect(try after.tensor.equal(expected))
    }
}
