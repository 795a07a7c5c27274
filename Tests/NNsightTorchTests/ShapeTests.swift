import Testing
@testable import NNsightTorch

/// Shape and rearrangement ops (Tests/Fixtures/torch/shape.json).
struct ShapeTests {
    let fixture: Fixture
    init() throws {
        try torchSetUp()
        fixture = try Fixture.load("shape")
    }

    @Test func viewsAndReshapes() throws {
        let c = fixture["views"]
        let x = try c.input("x")
        try expectMatches(try x.reshape(4, -1), c.output("reshape"), "reshape(4, -1)")
        let v = try x.view(6, 4)
        try expectMatches(v, c.output("view"), "view(6, 4)")
        #expect(v.sharesStorage(with: x))
        let p = try x.permute(2, 0, 1)
        try expectMatches(p, c.output("permute"), "permute")
        #expect(p.strides == c.param("permute_strides").ints)
        #expect(!p.isContiguous)
        let pc = try p.contiguous()
        #expect(pc.isContiguous)
        #expect(!pc.sharesStorage(with: x))
        try expectMatches(pc, c.output("permute_contig"), "contiguous")
        let t = try x.transpose(0, 2)
        try expectMatches(t, c.output("transpose"), "transpose")
        #expect(t.strides == c.param("transpose_strides").ints)
        try expectMatches(try x.index([0]).t(), c.output("t2d"), ".T")
        try expectMatches(try x.flatten(), c.output("flatten"), "flatten()")
        try expectMatches(try x.flatten(startDim: 1), c.output("flatten1"), "flatten(1)")
        try expectMatches(try x.flatten(startDim: 0, endDim: 1), c.output("flatten01"), "flatten(0, 1)")
        let n = try x.narrow(dim: 2, start: 1, length: 2)
        try expectMatches(n, c.output("narrow"), "narrow")
        #expect(n.sharesStorage(with: x) && n.storageOffset == 1)
        try expectMatches(try x.select(dim: 1, index: -1), c.output("select"), "select")
        // view of a non-contiguous tensor fails like PyTorch's.
        #expect(throws: TorchError.self) { try p.view(24) }
    }

    @Test func squeezeUnsqueeze() throws {
        let c = fixture["squeeze"]
        let y = try c.input("y")
        try expectMatches(try y.squeeze(), c.output("squeeze"), "squeeze()")
        try expectMatches(try y.squeeze(dim: 0), c.output("squeeze0"), "squeeze(0)")
        try expectMatches(try y.squeeze(dim: 1), c.output("squeeze1"), "squeeze(1) keeps size 3")
        try expectMatches(try y.squeeze(dim: -2), c.output("squeeze_neg"), "squeeze(-2)")
        try expectMatches(try y.unsqueeze(0), c.output("unsqueeze0"), "unsqueeze(0)")
        try expectMatches(try y.unsqueeze(-1), c.output("unsqueeze_neg"), "unsqueeze(-1)")
    }

    @Test func expandRepeat() throws {
        let c = fixture["expand_repeat"]
        let r = try c.input("r")
        let e = try r.expand(3, 4)
        try expectMatches(e, c.output("expand"), "expand")
        #expect(e.strides == c.param("expand_strides").ints)
        #expect(e.sharesStorage(with: r))
        try expectMatches(try r.expand(2, -1, 5), c.output("expand_neg"), "expand(2, -1, 5)")
        try expectMatches(try r.repeat(2, 3), c.output("repeat"), "repeat(2, 3)")
        try expectMatches(try r.repeat(2, 1, 2), c.output("repeat3"), "repeat(2, 1, 2)")
    }

    @Test func catStack() throws {
        let c = fixture["cat_stack"]
        let a = try c.input("a"), b = try c.input("b")
        try expectMatches(try Tensor.cat([a, b]), c.output("cat0"), "cat 0")
        try expectMatches(try Tensor.cat([a, b], dim: 1), c.output("cat1"), "cat 1")
        try expectMatches(try Tensor.cat([a, b, a], dim: -1), c.output("catneg"), "cat -1")
        try expectMatches(try Tensor.stack([a, b]), c.output("stack0"), "stack 0")
        try expectMatches(try Tensor.stack([a, b], dim: 2), c.output("stack2"), "stack 2")
        try expectMatches(try Tensor.stack([a, b], dim: -1), c.output("stackneg"), "stack -1")
    }

    @Test func splitChunk() throws {
        let json = fixture.cases["split_chunk"]!
        let s = try FixtureTensor(json["inputs"]["s"]).tensor()
        let x = try FixtureTensor(json["inputs"]["x"]).tensor()
        func check(_ pieces: [Tensor], _ key: String) throws {
            let expected = json[key].array.map(FixtureTensor.init)
            #expect(pieces.count == expected.count, "\(key) count")
            for (piece, want) in zip(pieces, expected) { try expectMatches(piece, want, key) }
        }
        try check(try s.split(3), "split3")
        try check(try x.split(sizes: [1, 2], dim: 1), "split_sizes")
        try check(try s.chunk(4), "chunk4")
        try check(try x.chunk(3, dim: 2), "chunk3_dim2")
        try check(try x.split(2, dim: 2), "split2_dim2")
        // More pieces than the shim's first guess of 16.
        let many = try Tensor.arange(40).split(2)
        #expect(many.count == 20)
        #expect(try many[19].toArray(Int.self) == [38, 39])
        #expect(many[3].sharesStorage(with: many[0]))
    }

    @Test func gatherIndexSelectMaskedFill() throws {
        let c = fixture["gather_select"]
        let src = try c.input("src"), gi = try c.input("gi"), si = try c.input("si"), mask = try c.input("mask")
        try expectMatches(try src.gather(dim: 1, index: gi), c.output("gather1"), "gather 1")
        try expectMatches(try src.gather(dim: 0, index: Tensor([2, 1, 0, 1] as [Int], shape: [1, 4])),
                          c.output("gather0"), "gather 0")
        try expectMatches(try src.indexSelect(dim: 0, index: si), c.output("index_select0"), "index_select 0")
        try expectMatches(try src.indexSelect(dim: 1, index: si), c.output("index_select1"), "index_select 1")
        try expectMatches(try src.maskedFill(mask, -1.5), c.output("masked_fill"), "masked_fill")
        let ints = try Tensor.arange(6)
        try expectMatches(try ints.maskedFill(ints .> 3, 7), c.output("masked_fill_int"), "masked_fill int")
    }

    @Test func topkSort() throws {
        let c = fixture["topk_sort"]
        let x = try c.input("x")
        let (tv, ti) = try x.topk(2)
        try expectMatches(tv, c.output("topk_values"), "topk values")
        try expectMatches(ti, c.output("topk_indices"), "topk indices")
        let (tv0, ti0) = try x.topk(2, dim: 0, largest: false)
        try expectMatches(tv0, c.output("topk0_small_values"), "topk smallest values")
        try expectMatches(ti0, c.output("topk0_small_indices"), "topk smallest indices")
        let (sv, si) = try x.sort()
        try expectMatches(sv, c.output("sort_values"), "sort values")
        try expectMatches(si, c.output("sort_indices"), "sort indices")
        let (dv, di) = try x.sort(dim: 0, descending: true)
        try expectMatches(dv, c.output("sortd0_values"), "sort desc values")
        try expectMatches(di, c.output("sortd0_indices"), "sort desc indices")
        try expectMatches(try x.argsort(), c.output("argsort"), "argsort")
        try expectMatches(try x.argsort(dim: 0, descending: true), c.output("argsort_desc"), "argsort desc")
    }

    @Test func multinomialWithSeededGenerator() throws {
        let c = fixture["multinomial"]
        let probs = try c.input("probs")
        let g = Generator(seed: UInt64(c.param("seed").int))
        try expectMatches(try probs.multinomial(3, generator: g), c.output("no_replacement"), "without replacement")
        try expectMatches(try probs.multinomial(8, replacement: true, generator: g), c.output("replacement_next"),
                          "with replacement, generator state carried on")
        let g2 = Generator(seed: UInt64(c.param("seed2").int))
        try expectMatches(try probs.index([1]).multinomial(4, replacement: true, generator: g2), c.output("vector"),
                          "1-D probabilities")
    }

    @Test func trilTriu() throws {
        let c = fixture["tril_triu"]
        let m = try c.input("m")
        try expectMatches(try m.tril(), c.output("tril"), "tril")
        try expectMatches(try m.tril(1), c.output("tril1"), "tril(1)")
        try expectMatches(try m.tril(-1), c.output("tril_neg"), "tril(-1)")
        try expectMatches(try m.triu(), c.output("triu"), "triu")
        try expectMatches(try m.triu(2), c.output("triu2"), "triu(2)")
        try expectMatches(try m.triu(-1), c.output("triu_neg"), "triu(-1)")
    }
}
