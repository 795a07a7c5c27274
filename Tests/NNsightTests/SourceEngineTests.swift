import Foundation
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

    @Test func testOperationAcrossBarrier() throws {
        let model = try tinyGPT2()
        var donorQuery: Tensor!, patchedQuery: Tensor!
        try model.trace { t in
            let barrier = t.barrier(2)
            var query: Tensor!
            t.invoke(p1) { m in
                query = try m.transformer.h[0].attn.source.query_0.output
                donorQuery = try query.clone()
                try barrier()
            }
            t.invoke(p1) { m in
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
