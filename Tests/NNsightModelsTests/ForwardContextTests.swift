import Foundation
import NNsightNN
import NNsightTorch
import Testing
@testable import NNsightModels

/// A model derives its masks and rotary tables into its own copy of the context: the caller's
/// context comes back as it was passed, while the layers see what the model derived.
@Suite struct ForwardContextTests {
    @Test(arguments: Fixtures.tinyModels)
    func modelLeavesCallersContextUnchanged(name: String) throws {
        try Torch.setNumThreads(1)
        let model = try NNsightModels.load(path: Fixtures.path(name)).model
        let batch = Fixtures.model(name).batch
        let ids = try idsTensor(batch.input_ids), mask = try idsTensor(batch.attention_mask)
        let cache = KVCache(layers: model.layerCount)
        let context = ForwardContext(attentionMask: mask, cache: cache)

        // What the first layer was called with.
        let layer = try #require(model.namedModules().first { $0.name.hasSuffix("h.0") || $0.name.hasSuffix("layers.0") }?.module)
        nonisolated(unsafe) var seen: ForwardContext?
        let handle = layer.registerForwardPreHook { _, _, context in
            seen = context
            return .proceed
        }
        defer { handle.remove() }
        _ = try Torch.noGrad { try model(ids, context) }

        #expect(context.names == ["attention_mask", "past_key_values"])
        #expect(context.positionIds == nil)
        #expect(context.derived == nil)
        #expect(cache.length == batch.input_ids[0].count, "the cache is the one reference the model appends to")

        let inner = try #require(seen)
        let state = try #require(inner.derived(as: DecoderState.self))
        #expect(try state.positionIds.toArray(Int64.self).map(Int.init) == batch.position_ids.flatMap { $0 })
        #expect(state.attentionMask.shape == [batch.input_ids.count, 1, batch.input_ids[0].count, batch.input_ids[0].count])
        #expect((state.rotaryTables != nil) == !(model is GPT2LMHeadModel || model is OPTForCausalLM))   // learned positions
        #expect(inner.positionIds != nil)
    }

    /// A layer called by hand without its model's derived state is a typed error, not a crash.
    @Test func layerWithoutDerivedStateThrows() throws {
        let model = try NNsightModels.load(path: Fixtures.path("tiny-llama")).model as! LlamaForCausalLM
        let hidden = try Tensor.zeros([1, 3, model.config.hiddenSize])
        #expect(throws: ModelError.self) { try model.model.layers[0](hidden, ForwardContext()) }
    }
}
