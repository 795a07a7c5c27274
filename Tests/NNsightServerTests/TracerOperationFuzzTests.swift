import Foundation
import Logging
import NNsight
@testable import NNsightRemote
import NNsightServer
import NNsightTorch
import Testing

/// Random tracer operations (steps, results, caches, barriers, tracer-wide nexts) with bad and
/// good fields, sent by hand inside a running generation: each is answered (an ack, a value or a
/// typed error), the trace ends, and a normal client afterwards gets its local result.
struct TracerOperationFuzzTests {
    static let paths = ["model.transformer.h.0", "model.lm_head", "model.transformer.nonexistent", "h.0", "", "model."]

    static func operation(_ index: Int, _ generator: inout SplitMix) -> WireMessage {
        var message: WireMessage
        switch index % 5 {
        case 0:
            message = WireMessage(kind: .step)
            message.step = Bool.random(using: &generator) ? Int.random(in: -5...6, using: &generator) : nil
        case 1:
            message = WireMessage(kind: .result)
        case 2:
            message = WireMessage(kind: .cache)
            message.cache = Int.random(in: -2...1100, using: &generator)
            message.paths = Bool.random(using: &generator) ? nil : (0..<Int.random(in: 0...3, using: &generator)).map { _ in
                paths.randomElement(using: &generator)!
            }
            message.includeInputs = Bool.random(using: &generator)
        case 3:
            message = WireMessage(kind: .barrier)
            message.barrier = Int.random(in: 0...3, using: &generator)
            message.count = Bool.random(using: &generator) ? Int.random(in: -1...1, using: &generator) : nil
        default:
            // A tracer-wide next with a count out of range (a valid one has no answer).
            message = WireMessage(kind: .next)
            message.count = [0, -3, 2_000_000].randomElement(using: &generator)!
        }
        message.trace = 77
        message.invoke = 0
        return message
    }

    @Test func randomTracerOperationsAreAnsweredAndTheServerKeepsServing() async throws {
        let local = try Fixtures.localModel()
        let expected = try local.generate(Scenarios.prompt, maxNewTokens: 3) { m, t in
            for _ in t.iter(1..<2) { try m.transformer.h[0].mlp.output[.ellipsis, 0..<8] = 0 }
            return try t.result()
        }
        let (answered, sent, end, after) = try await withServer { url, _ in
            let remote = try RemoteModel(url: url)
            let connection = remote.connection
            var trace = WireMessage(kind: .trace, trace: 77)
            trace.invokes = [InvokeInput(texts: [Scenarios.prompt])]
            trace.generation = GenerationRequest(maxNewTokens: 3, stopAtEOS: true)
            try connection.send(trace)
            let invoke = connection.mailbox(.init(trace: 77, invoke: 0))
            let status = connection.mailbox(.init(trace: 77, invoke: -1))
            let deadline = Date(timeIntervalSinceNow: 300)
            guard case .message(let start, _) = invoke.take(before: deadline), start.kind == .start else {
                return ([String: Int](), 0, WireMessage(kind: .error), UncheckedTensor(try Tensor.zeros([1])))
            }
            var generator = SplitMix(seed: 2613)
            var answered: [String: Int] = [:]
            let sent = 200
            for index in 0..<sent {
                try connection.send(Self.operation(index, &generator))
                if case .message(let answer, _) = invoke.take(before: deadline),
                   [.ack, .value].contains(answer.kind) || (answer.kind == .error && answer.code != nil) {
                    answered[answer.kind.rawValue, default: 0] += 1
                }
            }
            try connection.send(WireMessage(kind: .finished, trace: 77, invoke: 0))
            var end = WireMessage(kind: .error)
            while case .message(let event, _) = status.take(before: deadline) {
                if event.kind == .status, event.state == .completed || event.state == .error { end = event; break }
            }
            let after = try remote.generate(Scenarios.prompt, maxNewTokens: 3) { m, t in
                for _ in t.iter(1..<2) { try m.transformer.h[0].mlp.output[.ellipsis, 0..<8] = 0 }
                return try t.result()
            }
            return (answered, sent, end, UncheckedTensor(after))
        }
        #expect(answered.values.reduce(0, +) == sent)
        // Good operations among the bad: both kinds of answer came.
        #expect(answered["error", default: 0] > 0)
        #expect(answered["ack", default: 0] + answered["value", default: 0] > 0)
        // The trace ends with a status (completed, or an error naming what its caches could not send).
        #expect(end.kind == .status)
        #expect(try after.tensor.equal(expected))
    }
}
