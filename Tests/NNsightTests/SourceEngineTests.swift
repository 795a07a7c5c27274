import Foundation
import NNsightNN
import NNsightTorch
import Testing
@testable import NNsight

/// `.source` operations in the engine's other features, as module envoys are: edits, barriers,
/// scans on meta tensors, `next()`, and envoys taken before the weights were loaded.
struct SourceEngineTests {
    let p1 = "The capital of France is"

    @Test func testOperationInEdit() throws {
        let model = NNsightModel(RecursiveToy())
        let x = try Tensor.randn([2, 4])
        let edited = model.edit { m in try m.source.doubledRelu_0.setOutput(Tensor.ones([2, 3])) }
        let output = try edited.trace(x) { m in try m.output }
        #expect(try output.equal(Tensor.ones([2, 3])))
        let plain = try model.trace(x) { m in try m.output }
        #expect(try plain.equal(model.module.fc1(x).relu().pow(2)))
    }

    /// An operation whose value is not a tensor (`qkv_0` is the list `split` returns) fails the
    /// invoke that asked for it, not the model's call: caught, the trace goes on and the other
    /// invoke of the batch is served as without it; uncaught, it is the trace's error.
    @Test func testNonTensorOperationFailsOnlyItsRead() throws {
        let model = try tinyGPT2()
        let single = try model.trace(p1) { m in try m.lm_head.output }
        var plain: [Tensor] = [], logits: [Tensor] = []
        try model.trace { t in
            try t.invoke(p1) { m in plain.append(try m.lm_head.output) }
            try t.invoke("The Eiffel Tower is in") { m in plain.append(try m.lm_head.output) }
        }
        var caught: SourceError?
        try model.trace { t in
            try t.invoke(p1) { m in
                do { _ = try m.transformer.h[0].attn.source.qkv_0.output } catch let error as SourceError { caught = error }
                logits.append(try m.lm_head.output)
            }
            try t.invoke("The Eiffel Tower is in") { m in logits.append(try m.lm_head.output) }
        }
        guard case .notATensor(let path, let role, _) = caught else {
            Issue.record("expected notATensor, got \(String(describing: caught))")
            return
        }
        #expect(path == "model.transformer.h.0.attn.source.qkv_0" && role == "output")
        #expect(logits.count == 2 && plain.count == 2)
        for (got, want) in zip(logits, plain) { #expect(try got.equal(want)) }
        #expect(throws: SourceError.self) {
            try model.trace(p1) { m in _ = try m.transformer.h[0].attn.source.size_0.output }
        }
        // The model serves the next trace.
        #expect(try model.trace(p1) { m in try m.lm_head.output }.equal(single))
    }

    @Test func testOperationAcrossBarrier() throws {
        let model = try tinyGPT2()
        var donorQuery: Tensor!, patchedQuery: Tensor!
        try model.trace { t in
            let barrier = t.barrier(2)
            var query: Tensor!
            try t.invoke(p1) { m in
                query = try m.transformer.h[0].attn.source.query_0.output
                donorQuery = try query.clone()
                try barrier()
            }
            try t.invoke(p1) { m in
                try barrier()
                try m.transformer.h[0].attn.source.query_0.setOutput(query * 0)
                patchedQuery = try m.transformer.h[0].attn.source.query_0.output
            }
        }
        #expect(try donorQuery.abs().sum().item(Float.self) > 0)
        #expect(try patchedQuery.abs().sum().item(Float.self) == 0)
    }

    @Test func testOperationInScan() throws {
        let model = try tinyGPT2()
        let shape = try model.scan(p1) { m in try m.transformer.h[0].attn.source.pattern_0.output.shape }
        let tokens = try model.tokenRows(p1)[0].count
        #expect(shape == [1, 4, tokens, tokens])
    }

    /// Python's `test_operation_envoy_update`: an operation envoy taken before the weights are
    /// loaded works in the trace that loads them.
    @Test func testOperationEnvoyUpdate() throws {
        try Torch.setNumThreads(1)
        let model = try LanguageModel(path: LMFixtures.tinyGPT2Path, dispatch: false)
        let operation = try model.root.transformer.h[0].attn.source.self_c_attn_0
        // The module's call runs inside the operation's: its output comes first.
        let (viaModule, viaOperation) = try model.trace(p1) { m in
            (try m.transformer.h[0].attn.c_attn.output, try operation.output)
        }
        #expect(try viaOperation.equal(viaModule))
        #expect(try viaModule.abs().sum().item(Float.self) > 0)
    }

    /// `next()` on an operation moves it on to its module's next call (the next generation step).
    @Test func testOperationNext() throws {
        let model = try tinyGPT2()
        let (stepped, iterated) = try model.generate(p1, maxNewTokens: 2, stopAtEOS: false) { m, _ in
            let operation = try m.transformer.h[0].attn.source.self_c_attn_0
            let first = try operation.output
            let second = try operation.next().output
            return ([first, second], [first.shape, second.shape])
        }
        let tokens = try model.tokenRows(p1)[0].count
        #expect(iterated == [[1, tokens, 192], [1, 1, 192]])
        #expect(try !stepped[1].equal(stepped[0].narrow(dim: 1, start: tokens - 1, length: 1)))
    }
}
