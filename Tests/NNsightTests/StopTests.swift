import Testing
import NNsightTorch
@testable import NNsight

/// `tracer.stop()` in every form: it ends the run without a crash, keeps what was taken, and
/// gives a single-invoke trace or generation a result (or a typed error saying why there is none).
struct StopTests {
    @Test func testStopReturningInSingleTrace() throws {
        let model = try makeTiny()
        let x = try Tensor.rand([1, 5])
        let hidden = try model.trace(x) { m, t -> Tensor in
            try t.stop(returning: try m.layer1.output)
        }
        #expect(try hidden.equal(try model.layer1(x)))
        #expect(model.layer2.callCount == 0)
    }

    @Test func testPlainStopInSingleTraceReturningVoidOrOptional() throws {
        let model = try makeTiny()
        var seen: Tensor?
        try model.trace(try Tensor.rand([1, 5])) { m, t in
            seen = try m.layer1.output
            try t.stop()
        }
        #expect(seen?.shape == [1, 10])
        let nothing = try model.trace(try Tensor.rand([1, 5])) { m, t -> Tensor? in
            _ = try m.layer1.output
            try t.stop()
        }
        #expect(nothing == nil)
        #expect(model.layer2.callCount == 0)
    }

    @Test func testPlainStopInSingleTraceWithAResultTypeThrows() throws {
        let model = try makeTiny()
        #expect(throws: NNsightError.stoppedWithoutResult(expected: "Tensor")) {
            try model.trace(try Tensor.rand([1, 5])) { m, t -> Tensor in
                if try m.layer1.output.sum().item(Float.self).isFinite { try t.stop() }
                return try m.layer2.output
            }
        }
        // The model is usable afterwards.
        let output = try model.trace(try Tensor.zeros([1, 5])) { m in try m.layer2.output }
        #expect(output.shape == [1, 2])
    }

    @Test func testStopReturningTheWrongTypeThrows() throws {
        let model = try makeTiny()
        #expect(throws: NNsightError.stopResultType(expected: "Tensor", got: "Int")) {
            try model.trace(try Tensor.rand([1, 5])) { m, t -> Tensor in
                _ = try m.layer1.output
                try t.stop(returning: 3)
            }
        }
    }

    @Test func testStopInSingleGenerate() throws {
        let model = try tinyGPT2()
        let prompt = "The capital of France is"
        let full = try model.generate(prompt, maxNewTokens: 5, stopAtEOS: false) { m, t in
            try t.all().map { _ in try m.lm_head.output[0, -1].argmax().item(Int.self) }
        }
        #expect(full.count == 5)
        // Stopping at step 2 ends the whole generation there, with the tokens so far.
        let stopped = try model.generate(prompt, maxNewTokens: 5, stopAtEOS: false) { m, t -> [Int] in
            var tokens: [Int] = []
            for step in t.all() {
                tokens.append(try m.lm_head.output[0, -1].argmax().item(Int.self))
                if step == 2 { try t.stop(returning: tokens) }
            }
            return tokens
        }
        #expect(stopped == Array(full.prefix(3)))
        let lmHead = try #require(model.network.module(at: "lm_head"))
        let callsBefore = lmHead.callCount
        try model.generate(prompt, maxNewTokens: 5, stopAtEOS: false) { m, t in
            for _ in t.all() {
                _ = try m.lm_head.output
                try t.stop()
            }
        }
        #expect(lmHead.callCount == callsBefore + 1)
        #expect(throws: NNsightError.stoppedWithoutResult(expected: "Tensor")) {
            try model.generate(prompt, maxNewTokens: 5) { m, t -> Tensor in
                for _ in t.all() { try t.stop() }
                return try t.result()
            }
        }
    }

    @Test func testStopInOpenGenerate() throws {
        let model = try tinyGPT2()
        var first: Int?
        var second: Tensor?
        try model.generate(maxNewTokens: 5, stopAtEOS: false) { t in
            try t.invoke("The capital of France is") { m in
                first = try m.lm_head.output[0, -1].argmax().item(Int.self)
                try t.stop()
            }
            try t.invoke("Hello world") { m in second = try m.transformer.h[0].output }
        }
        #expect(first != nil)
        #expect(second != nil)
    }

    /// As in nnsight 0.8, a stop is held until the visit it fires at is complete: another invoke
    /// waiting on the same module is still served, and its cache still records it; then the model
    /// stops (later modules never run).
    @Test func testStopIsHeldUntilTheVisitEnds() throws {
        let model = try makeTiny()
        let a = try Tensor.rand([1, 5]), b = try Tensor.rand([1, 5])
        var seenByA: Tensor?, seenByB: Tensor?, cache: Cache?
        try model.trace { t in
            try t.invoke(a) { m in
                seenByA = try m.layer1.output
                try t.stop()
            }
            try t.invoke(b) { m in
                cache = try t.cache(modules: [try m.layer1])
                seenByB = try m.layer1.output
            }
        }
        #expect(try maxAbsDifference(try #require(seenByA), try model.layer1(a)) < 1e-6)
        #expect(try maxAbsDifference(try #require(seenByB), try model.layer1(b)) < 1e-6)
        #expect(try #require(cache)["model.layer1"].output.equal(try #require(seenByB)))
        #expect(model.layer2.callCount == 0)
        // An invoke waiting on a later module is not served: it missed its value.
        #expect(throws: NNsightError.missed(requester: "model.layer2.output.i0")) {
            try model.trace { t in
                try t.invoke(a) { m in
                    _ = try m.layer1.output
                    try t.stop()
                }
                try t.invoke(b) { m in _ = try m.layer2.output }
            }
        }
    }

    @Test func testStopOutsideAnInvokeThrows() throws {
        let model = try makeTiny()
        // In the body of an open trace, before any invoke runs.
        #expect(throws: NNsightError.outsideInterleaving(requester: "tracer.stop", action: "call")) {
            try model.trace { t in
                try t.invoke(try Tensor.rand([1, 5])) { _ in }
                try t.stop()
            }
        }
        // A tracer of another model, inside this model's invoke.
        let other = try makeTiny()
        #expect(throws: NNsightError.outsideInterleaving(requester: "tracer.stop", action: "call")) {
            try other.trace { otherTracer in
                try otherTracer.invoke(try Tensor.rand([1, 5])) { _ in }
                return try model.trace(try Tensor.rand([1, 5])) { m in
                    _ = try m.layer1.output
                    try otherTracer.stop()
                }
            }
        }
        #expect(model.layer2.callCount == 0)
    }
}
