import Testing
import NNsightTorch
@testable import NNsight

/// `tracer.cache(...)` (nnsight's cache scenarios) on the tiny GPT-2 checkpoint.
struct CacheTests {
    let prompt = "The capital of France is"

    @Test func testBasicCache() throws {
        let model = try tinyGPT2()
        let callsBefore = model.root.namedModules().map { $0.envoy.module.callCount }
        let (cache, h0) = try model.trace(prompt) { m, t in
            let cache = try t.cache()
            return (cache, try m.transformer.h[0].output)
        }
        // Every module that ran is cached (a ModuleList and GPT-2's unused attn_dropout never run).
        let ran = zip(model.root.namedModules(), callsBefore).filter { $0.0.envoy.module.callCount > $0.1 }.map { $0.0.path }
        #expect(Set(cache.paths) == Set(ran))
        #expect(cache.count == ran.count)
        #expect(try cache["model.transformer.h.0"].output.equal(h0))
        #expect(try cache.model.transformer.h[0].output.equal(h0))
        #expect(try cache["transformer.h.0"].inputs.isEmpty)
        #expect(throws: NNsightError.notCached(path: "model.transformer.h.0.input")) { try cache["model.transformer.h.0"].input }
    }

    @Test func testCacheInputsAndChosenModules() throws {
        let model = try tinyGPT2()
        let cache = try model.trace(prompt) { m, t in
            try t.cache(modules: [try m.transformer.h[0], try m.transformer.h[1]], includeInputs: true)
        }
        #expect(cache.paths == ["model.transformer.h.0", "model.transformer.h.1"])
        #expect(try cache["model.transformer.h.0"].output.equal(try cache["model.transformer.h.1"].input))
    }

    @Test func testCacheRecordsValuesAfterInterventions() throws {
        let model = try tinyGPT2()
        let cache = try model.trace(prompt) { m, t in
            let cache = try t.cache(modules: [try m.transformer.h[0].attn.c_attn])
            try m.transformer.h[0].attn.c_attn.setOutput(try m.transformer.h[0].attn.c_attn.output.zerosLike())
            return cache
        }
        #expect(try cache["model.transformer.h.0.attn.c_attn"].output.abs().sum().item(Float.self) == 0)
    }

    @Test func testCacheSkip() throws {
        let model = try tinyGPT2()
        let (cache, h0) = try model.trace(prompt) { m, t in
            let cache = try t.cache()
            let h0 = try m.transformer.h[0].output
            try m.transformer.h[1].skip(h0)
            return (cache, h0)
        }
        #expect(try cache["model.transformer.h.1"].output.equal(h0))
        #expect(throws: NNsightError.notCached(path: "model.transformer.h.1.attn")) { try cache["model.transformer.h.1.attn"] }
    }

    @Test func testCachePerInvokeRows() throws {
        let model = try tinyGPT2()
        var cacheB: Cache!, logitsB: Tensor!
        try model.trace { t in
            try t.invoke(prompt) { _ in }
            try t.invoke("Hello world") { m in
                cacheB = try t.cache(modules: [try m.lm_head])
                logitsB = try m.lm_head.output
            }
        }
        #expect(try cacheB["model.lm_head"].output.equal(logitsB))
        #expect(try cacheB["model.lm_head"].output.size(0) == 1)
    }

    @Test func testCacheInGenerationKeepsEveryStep() throws {
        let model = try tinyGPT2()
        let cache = try model.generate(prompt, maxNewTokens: 3, stopAtEOS: false) { m, t in
            try t.cache(modules: [try m.transformer.h[0].attn.c_attn])
        }
        let record = try cache["model.transformer.h.0.attn.c_attn"]
        #expect(record.outputs.map(\.shape) == [[1, 9, 192], [1, 1, 192], [1, 1, 192]])
    }

    @Test func testTwoCachesAreDisjoint() throws {
        let model = try tinyGPT2()
        let (attn, mlp) = try model.trace(prompt) { m, t in
            (try t.cache(modules: [try m.transformer.h[0].attn]), try t.cache(modules: [try m.transformer.h[0].mlp]))
        }
        #expect(attn.paths == ["model.transformer.h.0.attn"] && mlp.paths == ["model.transformer.h.0.mlp"])
    }

    @Test func testCacheOutsideInvokeRaises() throws {
        let model = try tinyGPT2()
        #expect(throws: NNsightError.outsideInterleaving(requester: "tracer.cache", action: "create")) {
            try model.trace { t in
                _ = try t.cache()
                try t.invoke(prompt) { _ in }
            }
        }
    }
}
