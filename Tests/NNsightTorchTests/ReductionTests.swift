import Testing
@testable import NNsightTorch

/// Reductions with dim and keepDim, softmax family, norms (Tests/Fixtures/torch/reductions.json).
struct ReductionTests {
    let fixture: Fixture
    init() throws {
        try torchSetUp()
        fixture = try Fixture.load("reductions")
    }

    @Test func sum() throws {
        var c = fixture["sum"]
        let x = try c.input("x")
        try expectMatches(try x.sum(), c.output("all"), rtol: 1e-5, "sum()")
        try expectMatches(try x.sum(dim: 1), c.output("dim1"), rtol: 1e-5, "sum(1)")
        try expectMatches(try x.sum(dim: [0, 2], keepDim: true), c.output("dims02_keep"), rtol: 1e-5, "sum((0,2), keepdim)")
        try expectMatches(try x.sum(dim: -1), c.output("neg"), rtol: 1e-5, "sum(-1)")
        try expectMatches(try x.sum(dim: [1], dtype: .float64), c.output("float64"), rtol: 1e-5, "sum(dtype=float64)")
        c = fixture["sum_int"]
        let ix = try c.input("ix")
        try expectMatches(try ix.sum(), c.output("all"), "int sum")
        try expectMatches(try ix.sum(dim: 0), c.output("dim0"), "int sum(0)")
        try expectMatches(try c.input("i32").sum(), c.output("i32"), "int32 sum promotes to int64")
        try expectMatches(try (ix .> 3).sum(dim: 1), c.output("bool"), "bool sum counts")
    }

    @Test func mean() throws {
        let c = fixture["mean"]
        let x = try c.input("x")
        try expectMatches(try x.mean(), c.output("all"), rtol: 1e-5, "mean()")
        try expectMatches(try x.mean(dim: -1, keepDim: true), c.output("last_keep"), rtol: 1e-5, "mean(-1, keepdim)")
        try expectMatches(try x.mean(dim: [0, 1]), c.output("dims01"), rtol: 1e-5, "mean((0,1))")
    }

    @Test func maxMinValuesAndIndices() throws {
        var c = fixture["max_min"]
        let x = try c.input("x")
        try expectMatches(try x.max(), c.output("max"), "max()")
        try expectMatches(try x.min(), c.output("min"), "min()")
        try expectMatches(try x.max(dim: [1]), c.output("amax1"), "amax(1)")
        try expectMatches(try x.min(dim: [0, 2], keepDim: true), c.output("amin_keep"), "amin keepdim")
        let (v1, i1) = try x.max(dim: 1)
        try expectMatches(v1, c.output("max1_values"), "max(1).values")
        try expectMatches(i1, c.output("max1_indices"), "max(1).indices")
        let (v2, i2) = try x.min(dim: 0, keepDim: true)
        try expectMatches(v2, c.output("min0k_values"), "min(0, keepdim).values")
        try expectMatches(i2, c.output("min0k_indices"), "min(0, keepdim).indices")
        c = fixture["arg"]
        try expectMatches(try x.argmax(), c.output("argmax"), "argmax()")
        try expectMatches(try x.argmax(dim: 2), c.output("argmax2"), "argmax(2)")
        try expectMatches(try x.argmin(dim: 1, keepDim: true), c.output("argmin1_keep"), "argmin(1, keepdim)")
        try expectMatches(try x.argmin(), c.output("argmin"), "argmin()")
    }

    @Test func varianceAndStd() throws {
        let c = fixture["var_std"]
        let x = try c.input("x")
        try expectMatches(try x.variance(), c.output("var"), rtol: 1e-5, "var()")
        try expectMatches(try x.variance(dim: [1], correction: 0), c.output("var1_c0"), rtol: 1e-5, "var(1, correction=0)")
        try expectMatches(try x.std(), c.output("std"), rtol: 1e-5, "std()")
        try expectMatches(try x.std(dim: [2], keepDim: true), c.output("std2_keep"), rtol: 1e-5, "std(2, keepdim)")
        try expectMatches(try x.variance(dim: [0, 2]), c.output("var02"), rtol: 1e-5, "var((0,2))")
    }

    @Test func softmaxFamily() throws {
        var c = fixture["softmax"]
        let x = try c.input("x")
        try expectMatches(try x.softmax(dim: -1), c.output("softmax_last"), "softmax(-1)")
        try expectMatches(try x.softmax(dim: 1), c.output("softmax1"), "softmax(1)")
        try expectMatches(try x.logSoftmax(dim: 1), c.output("log_softmax1"), "log_softmax(1)")
        try expectMatches(try F.logSoftmax(x, dim: -1), c.output("log_softmax_last"), "F.log_softmax")
        c = fixture["logsumexp"]
        try expectMatches(try x.logsumexp(dim: 2), c.output("dim2"), "logsumexp(2)")
        try expectMatches(try x.logsumexp(dim: 0, keepDim: true), c.output("dim0_keep"), "logsumexp(0, keepdim)")
        try expectMatches(try x.logsumexp(dim: [1, 2]), c.output("dims12"), "logsumexp((1,2))")
    }

    @Test func norms() throws {
        let c = fixture["norm"]
        let x = try c.input("x")
        try expectMatches(try x.norm(), c.output("l2"), rtol: 1e-5, "norm()")
        try expectMatches(try x.norm(1, dim: [1]), c.output("l1_dim1"), rtol: 1e-5, "L1 dim 1")
        try expectMatches(try x.norm(2, dim: [2], keepDim: true), c.output("l2_dim2_keep"), rtol: 1e-5, "L2 keepdim")
        try expectMatches(try x.norm(.infinity, dim: [0]), c.output("inf_dim0"), "Linf")
    }

    @Test func prodCumsumAllAny() throws {
        var c = fixture["prod_cumsum"]
        let x = try c.input("x"), ix = try c.input("ix")
        try expectMatches(try x.prod(dim: 1), c.output("prod1"), rtol: 1e-5, "prod(1)")
        try expectMatches(try ix.prod(), c.output("prod_all"), "int prod")
        try expectMatches(try x.cumsum(dim: 1), c.output("cumsum1"), rtol: 1e-5, "cumsum(1)")
        try expectMatches(try ix.cumsum(dim: 1), c.output("cumsum_int"), "int cumsum")
        c = fixture["all_any"]
        let b = try c.input("b")
        try expectMatches(try b.all(), c.output("all"), "all")
        try expectMatches(try b.any(), c.output("any"), "any")
        try expectMatches(try b.index([1]).all(), c.output("row_all"), "row all")
        try expectMatches(try b.index([1]).logicalNot().any(), c.output("none"), "none")
    }
}
