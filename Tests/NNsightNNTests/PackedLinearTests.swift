@testable import NNsightNN
import Testing
import NNsightTorch

/// `packLinearWeights()` changes how a weight is stored and multiplied, never what a layer
/// computes or what `weight.value` reads. The reference is `F.linear` with a plain copy of the
/// weight, which never goes through the packed kernel.
@Suite struct PackedLinearTests {
    /// A generator of its own: the global one is seeded by other tests running in parallel.
    let generator = Generator(seed: 3)

    /// A large layer (1536 × 48 = 73,728 elements, packed) after a small one (48 × 8, kept plain).
    func makeModel(dtype: DType = .float32) throws -> (model: Sequential, small: Linear, large: Linear) {
        let small = Linear(sharing: Parameter(try Tensor.randn([48, 8], generator: generator, dtype: dtype)))
        let large = Linear(sharing: Parameter(try Tensor.randn([1536, 48], generator: generator, dtype: dtype)),
                           bias: Parameter(try Tensor.randn([1536], generator: generator, dtype: dtype)))
        return (Sequential([small, large]), small, large)
    }

    func reference(_ layer: Linear, _ weight: Tensor, _ x: Tensor) throws -> Tensor {
        try F.linear(x, weight: weight, bias: layer.bias?.value)
    }

    @Test func packingKeepsOutputsAndValues() throws {
        let (model, small, large) = try makeModel()
        let x = try Tensor.randn([2, 5, 8], generator: generator)
        let before = try model(x)
        let plainWeight = try large.weight.value.clone()
        try model.packLinearWeights()
        #expect(large.weight.isPacked)
        #expect(!small.weight.isPacked)
        #expect(large.weight.shape == [1536, 48])
        #expect(large.inFeatures == 48 && large.outFeatures == 1536)
        #expect(try maxAbsDifference(model(x), before) < 1e-4)
        // Unpacking gives back exactly the weight that was packed.
        #expect(try large.weight.value.equal(plainWeight))
    }

    @Test func inPlaceChangesAndReplacementsReachTheProduct() throws {
        let (_, _, large) = try makeModel()
        try large.packLinearWeights()
        let x = try Tensor.randn([3, 48], generator: generator)
        // Through the unpacked value, in place: packed again before the next product.
        try Torch.noGrad { _ = try large.weight.value.mul_(2) }
        #expect(large.weight.isPacked)
        #expect(try maxAbsDifference(large(x), reference(large, large.weight.value, x)) < 1e-4)
        // A new value: the packed form is dropped and the plain weight used.
        large.weight.value = try Tensor.randn([1536, 48], generator: generator)
        #expect(!large.weight.isPacked)
        #expect(try maxAbsDifference(large(x), reference(large, large.weight.value, x)) < 1e-4)
    }

    @Test func gradientsFlowThroughPackedLayers() throws {
        let (_, _, large) = try makeModel()
        try large.packLinearWeights()
        // Into the input: the product is recorded with the weight unpacked for the call.
        let x = try Tensor.randn([3, 48], generator: generator)
        x.requiresGrad = true
        try large(x).sum().backward()
        let expected = try large.weight.value.sum(dim: 0).unsqueeze(0).expand([3, 48])
        #expect(try maxAbsDifference(try #require(x.grad), expected) < 1e-3)
        // Into the weight: the plain value requires a gradient, so the plain product runs.
        large.weight.value.requiresGrad = true
        try large(x.detach()).sum().backward()
        let weightGrad = try #require(large.weight.value.grad)
        #expect(try maxAbsDifference(weightGrad, x.detach().sum(dim: 0).unsqueeze(0).expand([1536, 48])) < 1e-3)
    }

    @Test func tiedWeightsKeepAPlainValueLaidOutTransposed() throws {
        let embedding = try Embedding(1536, 48)
        let head = Linear(sharing: embedding.weight)
        let model = Sequential([embedding, head])
        let original = try embedding.weight.value.clone()
        try model.packLinearWeights()
        #expect(head.weight.isPacked)
        // The embedding still reads a plain value: the same elements, stored transposed.
        let value = embedding.weight.value
        #expect(try value.equal(original))
        #expect(try !value.isContiguous && value.t().isContiguous)
        let ids = try Tensor([Int64(3), 1535, 0])
        #expect(try embedding(ids).equal(F.embedding(ids, weight: original)))
        // One row runs on the transposed plain weight, several on the packed one: the same products.
        for rows in [1, 2, 5] {
            let h = try Tensor.randn([rows, 48], generator: generator)
            #expect(try maxAbsDifference(head(h), F.linear(h, weight: original)) < 1e-4)
        }
    }

    /// What loaders ask for: a tied weight held once (plain, transposed, not packed), the others
    /// packed, and every replaced plain value handed to `replaced` (the loader's page release).
    @Test func tiedWeightsHeldOnceWhenSharedWeightsAreNotPacked() throws {
        let embedding = try Embedding(1536, 48)
        let head = Linear(sharing: embedding.weight)
        let (other, _, large) = try makeModel()
        let model = Sequential([embedding, head, other])
        let original = try embedding.weight.value.clone()
        let largePlain = large.weight.value
        let tiedPlain = embedding.weight.value
        var replaced: [Tensor] = []
        try model.packLinearWeights(packingShared: false) { replaced.append($0) }
        #expect(!head.weight.isPacked)
        #expect(large.weight.isPacked)
        #expect(replaced.count == 2)
        #expect(replaced.contains { $0 === largePlain })
        // The tied weight is handed over as one block of all its rows (under 1 Mi elements), viewing it.
        let tiedBlock = try #require(replaced.first { $0 !== largePlain })
        #expect(tiedBlock.shape == tiedPlain.shape)
        #expect(try tiedBlock.withUnsafeMutableBytes { $0.baseAddress } == tiedPlain.withUnsafeMutableBytes { $0.baseAddress })
        let value = embedding.weight.value
        #expect(try value.equal(original))
        #expect(try !value.isContiguous && value.t().isContiguous)
        for rows in [1, 5] {
            let h = try Tensor.randn([rows, 48], generator: generator)
            #expect(try maxAbsDifference(head(h), F.linear(h, weight: original)) < 1e-4)
        }
    }

    /// A weight copied into the transposed layout block by block: every block of rows is handed
    /// to `replaced` once, in order, covering every row, and only after its copy (blocks wiped in
    /// `replaced`, as a loader drops their pages, leave the copy intact).
    @Test func transposedLayoutHandsOverEachBlockAfterItsCopy() throws {
        let plain = try Tensor.randn([1536, 48], generator: generator)
        let original = try plain.clone()
        var blocks: [(rows: Int, first: Float)] = []
        let transposed = try transposedLayout(of: plain, blockElements: 500 * 48) { block in
            blocks.append((block.shape[0], try block.select(dim: 0, index: 0).select(dim: 0, index: 0).item(Float.self)))
            #expect(block.isContiguous && block.shape[1] == 48)
            try block.fill_(Float.nan)
        }
        #expect(blocks.map(\.rows) == [500, 500, 500, 36])
        for (index, block) in blocks.enumerated() {
            #expect(try block.first == original.select(dim: 0, index: 500 * index).select(dim: 0, index: 0).item(Float.self))
        }
        #expect(try transposed.equal(original))
        #expect(try !transposed.isContiguous && transposed.t().isContiguous)
    }

    @Test func conversionsAndLoadingPackAgain() throws {
        let (model, _, large) = try makeModel()
        try model.packLinearWeights()
        let replacement = try Tensor.randn([1536, 48], generator: generator)
        var state = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor) })
        state["1.weight"] = replacement
        try model.load(stateDict: state)
        #expect(large.weight.isPacked)
        let x = try Tensor.randn([4, 48], generator: generator)
        #expect(try maxAbsDifference(large(x), reference(large, replacement, x)) < 1e-4)

        try model.to(.bfloat16)
        #expect(large.weight.isPacked && large.weight.dtype == .bfloat16)
        let y = try large(x.to(.bfloat16)).to(.float32)
        let expected = try reference(large, large.weight.value, x.to(.bfloat16)).to(.float32)
        #expect(try maxAbsDifference(y, expected) / expected.abs().max().item(Float.self) < 1e-2)
    }

    @Test func mismatchedInputIsATypedError() throws {
        let (_, _, large) = try makeModel()
        try large.packLinearWeights()
        #expect(large.weight.isPacked)
        let error = try #require(throws: TorchError.self) { try large(Tensor.randn([2, 47])) }
        #expect(error.kind == .value)
        #expect(error.message.contains("47"))
        // The layer is unharmed.
        #expect(try large(Tensor.randn([2, 48])).shape == [2, 1536])
    }
}
