import Foundation
import NNsightTorch
import Testing
@testable import NNsight

/// nnsight's test_source.py scenarios on the tiny GPT-2, under their Python names, against
/// Python nnsight 0.8.1's values (scripts/fixtures/gen_source.py). Python's operations are
/// transformers' `GPT2Attention.forward`'s; ours are those of our `GPT2Attention.forward`, so
/// each test says which of ours stands for which of theirs.
struct SourceGPT2Tests {
    let root: [Any] = ["tiny_gpt2"]
    let p1 = "The capital of France is"

    func value(_ path: [Any]) -> Any { SourceFixtures.value(SourceFixtures.source, root + path) }
    func tensor(_ path: [Any]) throws -> Tensor { try SourceFixtures.tensor(SourceFixtures.source, root + path) }
    func ids(_ path: [Any]) -> [Int] { ((value(path) as! [[NSNumber]])[0]).map(\.intValue) }

    /// Python: h[0]'s `split_1.output` `(q, k, v)` with q zeroed, written into h[1]'s `split_1`
    /// (so h[1] runs on zeros and h[0]'s keys and values). Ours: `query_0`, `key_0`, `value_0`
    /// (per head; the same values).
    @Test func testSourcePatching() throws {
        let model = try tinyGPT2()
        let (readBack, logits) = try model.trace(p1) { m in
            let donor = try m.transformer.h[0].attn.source
            let (query, key, value) = (try donor.query_0.output, try donor.key_0.output, try donor.value_0.output)
            let patched = try m.transformer.h[1].attn.source
            try patched.query_0.setOutput(Tensor.zeros(query.shape))
            let readBack = try patched.query_0.output
            try patched.key_0.setOutput(key)
            try patched.value_0.setOutput(value)
            return (readBack, try m.lm_head.output[0, -1])
        }
        #expect(try readBack.abs().sum().item(Float.self) == 0)
        #expect(value(["patching", "readback_all_zero"]) as! Bool)
        #expect(try maxAbsDifference(logits, try tensor(["patching", "last_logits"])) < 1e-4)
    }

    /// Python: zeros swapped into `c_attn.output` make `split_1.output[0]` zero.
    @Test func testSourceCAttnZero() throws {
        let model = try tinyGPT2()
        let (query, logits) = try model.trace(p1) { m in
            let qkv = try m.transformer.h[0].attn.c_attn.output
            try m.transformer.h[0].attn.c_attn.setOutput(Tensor.zeros(qkv.shape))
            return (try m.transformer.h[0].attn.source.query_0.output, try m.lm_head.output[0, -1])
        }
        #expect(try query.abs().sum().item(Float.self) == 0)
        #expect(value(["c_attn_zero", "query_all_zero"]) as! Bool)
        #expect(try maxAbsDifference(logits, try tensor(["c_attn_zero", "last_logits"])) < 1e-4)
    }

    /// Python's TestSourceIter: an operation read at `iter[:]`, `[1]`, `[1:3]`, `(0, 2)` of a
    /// 3-token generation; then the attention output zeroed on every layer at every step
    /// changes the result (Python: `attention_interface_1.output[0]`; ours: `fusedAttention_0`).
    @Test func testSourceIter() throws {
        let model = try tinyGPT2()
        let counts = value(["iter", "counts"]) as! [String: NSNumber]
        func count(_ steps: (Tracer<LanguageModel>) -> StepSequence) throws -> Int {
            try model.generate(p1, maxNewTokens: 3, stopAtEOS: false) { m, t in
                var got: [Tensor] = []
                for _ in steps(t) { got.append(try m.transformer.h[0].attn.source.fusedAttention_0.output) }
                return got.count
            }
        }
        #expect(try count { $0.all() } == counts["all"]!.intValue)
        #expect(try count { $0.iter(1) } == counts["one"]!.intValue)
        #expect(try count { $0.iter(1..<3) } == counts["range"]!.intValue)
        #expect(try count { $0.iter([0, 2]) } == counts["sparse"]!.intValue)

        let clean = try model.generate(p1, maxNewTokens: 3, stopAtEOS: false) { _, t in try t.result() }
        let zeroed = try model.generate(p1, maxNewTokens: 3, stopAtEOS: false) { m, t in
            for _ in t.iter(0..<3) {
                for layer in 0..<2 {
                    let operation = try m.transformer.h[layer].attn.source.fusedAttention_0
                    try operation.setOutput(Tensor.zeros(try operation.output.shape))
                }
            }
            return try t.result()
        }
        #expect(try clean.toArray(Int.self) == ids(["iter", "clean_ids"]))
        #expect(try zeroed.toArray(Int.self) == ids(["iter", "zeroed_ids"]))
    }

    /// Python: `attention_interface_1.source.torch_nn_functional_scaled_dot_product_attention_0.output`.
    @Test func testRecursiveSource() throws {
        let model = try tinyGPT2()
        let output = try model.trace(p1) { m in
            try m.transformer.h[0].attn.source.fusedAttention_0.source.F_scaledDotProductAttention_0.output
        }
        #expect(try maxAbsDifference(output, try tensor(["recursive", "sdpa_output"])) < 1e-5)
    }

    /// Printing `.source` on a built-in module lists our forward with the operation names.
    @Test func testSourcePrintsGPT2Attention() throws {
        let model = try tinyGPT2()
        let printed = "\(try model.root.transformer.h[0].attn.source)"
        #expect(printed.contains("* public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {"))
        #expect(printed.contains(" self_c_attn_0 "))
        #expect(printed.contains(" pattern_0 "))
        let operation = "\(try model.root.transformer.h[0].attn.source.pattern_0)"
        #expect(operation.hasPrefix("model.transformer.h.0.attn.source.pattern_0:\n"))
        #expect(operation.contains("let pattern = try attentionPattern(scores, mask: mask) <--"))
    }
}
