import Foundation
import Synchronization
import Testing
@testable import NNsightTorch

/// Creation functions and seeded random numbers (Tests/Fixtures/torch/creation.json).
struct CreationTests {
    let fixture: Fixture
    init() throws {
        try torchSetUp()
        fixture = try Fixture.load("creation")
    }

    @Test func constants() throws {
        let c = fixture["constant"]
        try expectMatches(try Tensor.zeros([2, 3]), c.output("zeros"), "zeros")
        try expectMatches(try Tensor.ones([3], dtype: .int64), c.output("ones_int"), "ones int64")
        try expectMatches(try Tensor.full([2, 2], 1.5), c.output("full"), "full")
        try expectMatches(try Tensor.full([3], 7, dtype: .int32), c.output("full_int"), "full int32")
        try expectMatches(try Tensor.zeros([2], dtype: .bool), c.output("zeros_bool"), "zeros bool")
        try expectMatches(try Tensor.ones([2, 1], dtype: .float64), c.output("ones_f64"), "ones float64")
        let like = try Tensor.ones([2, 1], dtype: .float64).fullLike(2.5)
        #expect(like.dtype == .float64 && like.shape == [2, 1])
        #expect(try like.toArray(Double.self) == [2.5, 2.5])
        #expect(try Tensor.full([2], 1).zerosLike().toArray(Float.self) == [0, 0])
    }

    @Test func ranges() throws {
        let c = fixture["ranges"]
        try expectMatches(try Tensor.arange(5), c.output("arange5"), "arange(5)")
        try expectMatches(try Tensor.arange(0, 10, step: 3), c.output("arange_step"), "arange(0, 10, 3)")
        try expectMatches(try Tensor.arange(1, 2.5, step: 0.5), c.output("arange_float"), "arange float")
        try expectMatches(try Tensor.arange(5, -5, step: -2), c.output("arange_neg"), "arange negative step")
        try expectMatches(try Tensor.arange(4, dtype: .float32), c.output("arange_f32"), "arange float32")
        try expectMatches(try Tensor.linspace(0, 1, steps: 5), c.output("linspace"), "linspace")
        try expectMatches(try Tensor.linspace(-2, 3, steps: 7), c.output("linspace_neg"), "linspace")
        try expectMatches(try Tensor.eye(3), c.output("eye3"), "eye(3)")
        try expectMatches(try Tensor.eye(2, 4), c.output("eye24"), "eye(2, 4)")
    }

    @Test func seededGeneratorsMatchPyTorchExactly() throws {
        let c = fixture["random"]
        var g = Generator(seed: 123)
        try expectMatches(try Tensor.randn([2, 3], generator: g), c.output("gen123_randn"), rtol: 0, atol: 0, "randn")
        try expectMatches(try Tensor.randn([2, 3], generator: g), c.output("gen123_randn_next"), rtol: 0, atol: 0,
                          "randn, next draw")
        g = Generator(seed: 123)
        try expectMatches(try Tensor.rand([4], generator: g), c.output("gen123_rand"), rtol: 0, atol: 0, "rand")
        g = Generator(seed: 42)
        try expectMatches(try Tensor.randint(0, 10, [6], generator: g), c.output("gen42_randint"), "randint")
        g = Generator(seed: 42)
        try expectMatches(try Tensor.randn([3], generator: g, dtype: .float64), c.output("gen42_randn_f64"),
                          rtol: 0, atol: 0, "randn float64")
        g = Generator(seed: 9)
        try expectMatches(try Tensor.empty([5]).normal_(mean: 1, std: 2, generator: g), c.output("gen9_normal"),
                          rtol: 0, atol: 0, "normal_")
        try expectMatches(try Tensor.empty([5]).uniform_(-1, 1, generator: g), c.output("gen9_uniform_next"),
                          rtol: 0, atol: 0, "uniform_")
        g = Generator(seed: 2024)
        try expectMatches(try Tensor.randn([40], generator: g), c.output("gen2024_randn40"), rtol: 0, atol: 0,
                          "randn, vectorised path")
    }

    @Test func tensorFromArrays() throws {
        let t = try Tensor([1, 2, 3, 4, 5, 6] as [Int32], shape: [2, 3])
        #expect(t.dtype == .int32 && t.shape == [2, 3] && t.rank == 2 && t.count == 6)
        #expect(try t.size(-1) == 3)
        #expect(throws: TorchError.self) { try t.size(2) }
        #expect(try t.toArray(Double.self) == [1, 2, 3, 4, 5, 6])
        #expect(try Tensor(2.5).item(Double.self) == 2.5)
        #expect(throws: TorchError.self) { try t.item(Int.self) }
        #expect(throws: TorchError.self) { try Tensor([1, 2, 3] as [Float], shape: [2, 2]) }
        let h = try Tensor([1.5, -2] as [Float]).to(.float16)
        #expect(h.dtype == .float16 && h.dtype.byteCount == 2)
        #expect(try h.toArray(Float.self) == [1.5, -2])
    }
}

/// Everything that draws from libtorch's global generator. Each seed and the draws it seeds are
/// one `Torch.withDefaultGenerator` step, so no test running beside it (in this target or another:
/// every test target runs in one process) draws in between; the suite is serialized for the same
/// reason within itself.
@Suite(.serialized) struct GlobalSeedTests {
    init() throws { try torchSetUp() }

    @Test func manualSeedRandAndRandn() throws {
        let c = try Fixture.load("creation")["random"]
        try Torch.withDefaultGenerator {
            try Torch.manualSeed(7)
            try expectMatches(try Tensor.rand([3, 4]), c.output("seed7_rand"), rtol: 0, atol: 0, "rand after seed 7")
            try expectMatches(try Tensor.randn([2, 5]), c.output("seed7_randn_after_rand"), rtol: 0, atol: 0,
                              "randn continues the stream")
        }
        try Torch.withDefaultGenerator {
            try Torch.manualSeed(7)
            try expectMatches(try Tensor.randn([2, 5]), c.output("seed7_randn"), rtol: 0, atol: 0, "randn after seed 7")
        }
    }

    @Test func dropoutWithSeed() throws {
        let c = try Fixture.load("functional")["dropout"]
        let x = try c.input("x")
        try Torch.withDefaultGenerator {
            try Torch.manualSeed(UInt64(c.param("seed").int))
            try expectMatches(try F.dropout(x, p: 0.5, training: true), c.output("train_seed5_p05"), "dropout p=0.5")
        }
        try Torch.withDefaultGenerator {
            try Torch.manualSeed(5)
            try expectMatches(try F.dropout(x, p: 0.25, training: true), c.output("train_seed5_p025"), "dropout p=0.25")
        }
    }

    /// A seed and the draws after it, held as one step by `withDefaultGenerator`, give the seeded
    /// values while four other threads keep seeding and drawing from the default generator.
    @Test func seededDrawsStayTheirsWhileOtherThreadsDraw() throws {
        let expected = try Torch.withDefaultGenerator {
            try Torch.manualSeed(11)
            return try Tensor.randn([64]).toArray(Float.self)
        }
        final class Flag: Sendable {
            let raised = Atomic<Bool>(false)
            let draws = Atomic<Int>(0)
        }
        let stop = Flag()
        let others = (0..<4).map { index in
            Thread {
                while !stop.raised.load(ordering: .relaxed) {
                    try? Torch.manualSeed(UInt64(index))
                    _ = try? Tensor.rand([32])
                    stop.draws.add(1, ordering: .relaxed)
                }
            }
        }
        others.forEach { $0.start() }
        defer { stop.raised.store(true, ordering: .relaxed) }
        while stop.draws.load(ordering: .relaxed) < 100 { Thread.sleep(forTimeInterval: 0.001) }
        let drawsBefore = stop.draws.load(ordering: .relaxed)
        for _ in 0..<2000 {
            let drawn = try Torch.withDefaultGenerator {
                try Torch.manualSeed(11)
                return try Tensor.randn([64]).toArray(Float.self)
            }
            try #require(drawn == expected)
        }
        #expect(stop.draws.load(ordering: .relaxed) > drawsBefore, "the other threads drew meanwhile")
    }

    @Test func multinomialWithGlobalSeed() throws {
        let c = try Fixture.load("shape")["multinomial"]
        try Torch.manualSeed(UInt64(c.param("global_seed").int))
        try expectMatches(try c.input("probs").multinomial(2), c.output("global_seed_77"), "multinomial")
    }
}
