import Foundation
import NNsightModels
import NNsightTorch
import Testing
@testable import NNsight

/// The router of the sparse MoE block Mixtral and Qwen3-MoE share, inside a trace: its logits
/// are a module output (`mlp.gate`) that an intervention reads, and replacing them re-routes the
/// tokens through other experts.
@Suite struct MixtralRoutingTests {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/models")
    static let prompt = "The capital of France is"

    /// The model's logits with every token's router logits in layer 0 replaced by `routerLogits`
    /// (one value per expert), and what `mlp.gate` reads back.
    func patched(_ model: LanguageModel, _ routerLogits: [Float]) throws -> (logits: Tensor, gate: Tensor) {
        try model.trace(Self.prompt) { m in
            try m.model.layers[0].mlp.gate.output[.all] = Tensor(routerLogits, shape: [routerLogits.count])
            let gate = try m.model.layers[0].mlp.gate.output
            return (try m.lm_head.output, gate)
        }
    }

    /// Both tiny fixtures have 4 experts and hidden size 64; tiny-qwen3-moe's layer 0 is sparse.
    @Test(arguments: ["tiny-mixtral", "tiny-qwen3-moe"])
    func routerLogitsAreReadAndPatched(_ name: String) throws {
        try Torch.setNumThreads(1)
        let model = try LanguageModel(path: Self.models.appendingPathComponent(name).path)
        // Read in execution order: the router, the experts, their block, the head.
        let (router, experts, block, logits) = try model.trace(Self.prompt) { m in
            (try m.model.layers[0].mlp.gate.output, try m.model.layers[0].mlp.experts.output,
             try m.model.layers[0].mlp.output, try m.lm_head.output)
        }
        let tokens = try logits.size(1)
        #expect(router.shape == [tokens, 4], "router logits per flattened token, one per expert")
        #expect(experts.shape == [tokens, 64])
        #expect(try block.reshape([tokens, 64]).equal(experts), "the block's output is its experts' weighted sum")

        // Experts 2 and 3 for every token, equally weighted; the same routing shifted by a
        // constant (softmax and top-k are shift-invariant) gives the same logits.
        let toLast = try patched(model, [0, 0, 10, 10])
        #expect(try toLast.gate.equal(Tensor([Float](repeating: 0, count: tokens * 4), shape: [tokens, 4])
            + Tensor([0, 0, 10, 10] as [Float], shape: [4])))
        let shifted = try patched(model, [5, 5, 15, 15])
        #expect(try maxAbsDifference(toLast.logits, shifted.logits) < 1e-5)
        // Other experts, other logits; and both differ from the model's own routing.
        let toFirst = try patched(model, [10, 10, 0, 0])
        #expect(try maxAbsDifference(toLast.logits, toFirst.logits) > 1e-3)
        #expect(try maxAbsDifference(toLast.logits, logits) > 1e-3)
    }

    /// The block's forward is marked: `.source.routing_0` is each token's weight on each expert,
    /// its top-k softmax probabilities renormalised (both fixtures renormalise), and writing it
    /// routes the tokens as writing the router logits would.
    @Test(arguments: ["tiny-mixtral", "tiny-qwen3-moe"])
    func routingWeightsAreSourceOperations(_ name: String) throws {
        try Torch.setNumThreads(1)
        let model = try LanguageModel(path: Self.models.appendingPathComponent(name).path)
        let (logits, routing) = try model.trace(Self.prompt) { m in
            let source = try m.model.layers[0].mlp.source
            return (try source.logits_0.output, try source.routing_0.output)
        }
        #expect(routing.shape == logits.shape)
        let chosen = try (routing .!= 0).to(.float32)
        #expect(try chosen.sum(dim: -1).equal(Tensor.full([logits.size(0)], 2.0, dtype: .float32)))
        #expect(try maxAbsDifference(routing.sum(dim: -1), Tensor.ones([logits.size(0)])) < 1e-6)
        // The chosen experts are the two with the largest router logits.
        let top = try logits.topk(2, dim: -1).indices
        let ids = try Tensor.arange(0, 4).unsqueeze(0)
        let fromTop = try ((ids .== top.narrow(dim: 1, start: 0, length: 1)) .|| (ids .== top.narrow(dim: 1, start: 1, length: 1)))
            .to(.float32)
        #expect(try chosen.equal(fromTop))

        // Experts 2 and 3, half each, for every token: what router logits [0, 0, 10, 10] give.
        let tokens = try logits.size(0)
        let byHand = try model.trace(Self.prompt) { m in
            try m.model.layers[0].mlp.source.routing_0.setOutput(
                Tensor([0, 0, 0.5, 0.5] as [Float], shape: [1, 4]).expand([tokens, 4]))
            return try m.lm_head.output
        }
        let byRouter = try patched(model, [0, 0, 10, 10]).logits
        #expect(try maxAbsDifference(byHand, byRouter) < 1e-4)
    }
}
