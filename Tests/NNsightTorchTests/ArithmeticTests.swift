import Testing
@testable import NNsightTorch

/// Elementwise arithmetic, broadcasting, scalars, type promotion, matmul, math, comparisons and
/// logic against PyTorch goldens (Tests/Fixtures/torch/arithmetic.json).
struct ArithmeticTests {
    let fixture: Fixture
    init() throws {
        try torchSetUp()
        fixture = try Fixture.load("arithmetic")
    }

    @Test func broadcastingBinaryOps() throws {
        var c = fixture["add_broadcast"]
        try expectMatches(try c.input("a") + c.input("b"), c.output("out"), "add")
        c = fixture["sub_broadcast"]
        try expectMatches(try c.input("a") - c.input("c"), c.output("out"), "sub")
        c = fixture["mul_broadcast"]
        try expectMatches(try c.input("a") * c.input("b"), c.output("out"), "mul")
        c = fixture["div_broadcast"]
        try expectMatches(try c.input("a") / c.input("c"), c.output("out"), "div")
        c = fixture["outer_broadcast"]
        let outer = try c.input("c") * c.input("b")
        #expect(outer.shape == [2, 3])
        try expectMatches(outer, c.output("out"), "outer")
    }

    @Test func scalarsOnBothSides() throws {
        var c = fixture["scalar_add"]
        let a = try c.input("a")
        try expectMatches(try a + 2.5, c.output("out"), "a + 2.5")
        try expectMatches(try 2.5 + a, c.output("left"), "2.5 + a")
        try expectMatches(try a + 3, c.output("int"), "a + 3")
        c = fixture["scalar_sub"]
        try expectMatches(try a - 1.25, c.output("out"), "a - 1.25")
        try expectMatches(try 1.25 - a, c.output("left"), "1.25 - a")
        try expectMatches(try 2 - a, c.output("intleft"), "2 - a")
        c = fixture["scalar_mul"]
        try expectMatches(try a * 3, c.output("out"), "a * 3")
        try expectMatches(try 0.5 * a, c.output("left"), "0.5 * a")
        c = fixture["scalar_div"]
        try expectMatches(try a / 4, c.output("out"), "a / 4")
        try expectMatches(try 1.0 / a, c.output("left"), "1 / a")
        try expectMatches(try -a, fixture["neg"].output("out"), "-a")
        try expectMatches(try a % 0.75, fixture["float_remainder"].output("out"), "a % 0.75")
    }

    @Test func integerPromotionAndTrueDivision() throws {
        var c = fixture["int_float_scalar"]
        let ia = try c.input("ia")
        #expect(ia.dtype == .int64)
        try expectMatches(try ia + 1.5, c.output("add"), "int + 1.5 -> float32")
        try expectMatches(try ia * 2, c.output("mul_int"), "int * 2 stays int64")
        try expectMatches(try ia / 2, c.output("div_int"), "int / 2 true division")
        try expectMatches(try ia * 0.5, c.output("mul_float"), "int * 0.5")
        try expectMatches(try 10 - ia, c.output("left_sub"), "10 - int")
        c = fixture["int_true_division"]
        try expectMatches(try c.input("ia") / c.input("ib"), c.output("out"), "int / int")
        c = fixture["int_remainder"]
        let ib = try c.input("ib")
        try expectMatches(try ia % 3, c.output("scalar"), "Python-signed %")
        try expectMatches(try ia % ib, c.output("tensor"), "int % int")
        try expectMatches(try ia.floorDivide(ib), c.output("floordiv"), "//")
        try expectMatches(try ia.floorDivide(4), c.output("floordiv_scalar"), "// 4")
        c = fixture["int_plus_float_tensor"]
        try expectMatches(try c.input("ia") + c.input("f"), c.output("out"), "int64 + float32")
        c = fixture["int32_plus_int64"]
        try expectMatches(try c.input("i32") + c.input("ib"), c.output("out"), "int32 + int64")
    }

    @Test func matmul() throws {
        var c = fixture["matmul_2d"]
        try expectMatches(try c.input("a").matmul(c.input("b")), c.output("out"), rtol: 1e-5, "2-D")
        c = fixture["matmul_batched"]
        try expectMatches(try c.input("a").matmul(c.input("b")), c.output("out"), rtol: 1e-5, "batched")
        c = fixture["matmul_vector"]
        let v = try c.input("v")
        try expectMatches(try c.input("a").matmul(v), c.output("out"), rtol: 1e-5, "matrix-vector")
        try expectMatches(try v.matmul(v), c.output("dot"), rtol: 1e-5, "dot")
        c = fixture["matmul_int"]
        try expectMatches(try c.input("a").matmul(c.input("b")), c.output("out"), "int matmul")
    }

    @Test func unaryMath() throws {
        let c = fixture["unary"]
        let x = try c.input("x"), pos = try c.input("pos")
        let ops: [(String, () throws -> Tensor)] = [
            ("sqrt", { try pos.sqrt() }), ("exp", { try x.exp() }), ("log", { try pos.log() }),
            ("tanh", { try x.tanh() }), ("sin", { try x.sin() }), ("cos", { try x.cos() }), ("abs", { try x.abs() }),
            ("sigmoid", { try x.sigmoid() }), ("rsqrt", { try pos.rsqrt() }), ("square", { try x.square() }),
            ("erf", { try x.erf() }), ("floor", { try x.floor() }), ("ceil", { try x.ceil() }),
            ("round", { try (x * 3).round() }), ("sign", { try x.sign() }), ("log2", { try pos.log2() }),
            ("reciprocal", { try pos.reciprocal() }),
        ]
        #expect(ops.count == c.outputNames.count)
        for (name, op) in ops { try expectMatches(try op(), c.output(name), name) }
    }

    @Test func powAndClamp() throws {
        var c = fixture["pow"]
        let x = try c.input("x"), pos = try c.input("pos")
        try expectMatches(try x.pow(2), c.output("pow_2"), "x ** 2")
        try expectMatches(try pos.pow(2.5), c.output("pow_2_5"), "x ** 2.5")
        try expectMatches(try pos.pow(c.input("e")), c.output("pow_tensor"), "x ** e")
        try expectMatches(try Tensor.pow(2.0, x), c.output("rpow"), "2 ** x")
        try expectMatches(try fixture["int_float_scalar"].input("ia").pow(2), c.output("int_pow"), "int ** 2")
        c = fixture["clamp"]
        try expectMatches(try x.clamp(min: -0.5, max: 0.5), c.output("both"), "clamp both")
        try expectMatches(try x.clamp(min: 0), c.output("min"), "clamp min")
        try expectMatches(try x.clamp(max: -0.1), c.output("max"), "clamp max")
        c = fixture["maximum"]
        let a = try c.input("a"), b = try c.input("b")
        try expectMatches(try a.maximum(b), c.output("maximum"), "maximum")
        try expectMatches(try a.minimum(b), c.output("minimum"), "minimum")
    }

    @Test func comparisons() throws {
        var c = fixture["compare"]
        let ia = try c.input("ia"), ib = try c.input("ib")
        try expectMatches(try ia .== ib.abs(), c.output("eq"), "==")
        try expectMatches(try ia .!= ib.abs(), c.output("ne"), "!=")
        try expectMatches(try ia .< ib, c.output("lt"), "<")
        try expectMatches(try ia .<= ib, c.output("le"), "<=")
        try expectMatches(try ia .> ib, c.output("gt"), ">")
        try expectMatches(try ia .>= ib, c.output("ge"), ">=")
        try expectMatches(try ia .== 5, c.output("eq_s"), "== 5")
        try expectMatches(try ia .< 0.5, c.output("lt_s"), "< 0.5")
        try expectMatches(try ia .>= 5, c.output("ge_s"), ">= 5")
        c = fixture["compare_float_broadcast"]
        let a = try c.input("a"), b = try c.input("b")
        try expectMatches(try a .> b, c.output("gt"), "a > b")
        try expectMatches(try a .<= b, c.output("le"), "a <= b")
        try expectMatches(try a .> 0, c.output("gt_s"), "a > 0")
    }

    @Test func whereAndLogic() throws {
        var c = fixture["where"]
        let a = try c.input("a"), b = try c.input("b")
        let cond = try a .> 0
        try expectMatches(cond, c.output("cond"), "cond")
        try expectMatches(try Tensor.where(cond, a, b), c.output("out"), "where")
        c = fixture["logical"]
        let p = try c.input("p"), q = try c.input("q")
        try expectMatches(try p .&& q, c.output("and"), "and")
        try expectMatches(try p .|| q, c.output("or"), "or")
        try expectMatches(try p.logicalNot(), c.output("not"), "not")
        try expectMatches(try p.logicalXor(q), c.output("xor"), "xor")
        let ints = fixture["compare"]
        try expectMatches(try ints.input("ia").index([..<4]) .&& ints.input("ib").index([..<4]),
                          c.output("and_int"), "logical_and of ints")
        c = fixture["special"]
        let s = try c.input("s")
        try expectMatches(try s.isnan(), c.output("isnan"), "isnan")
        try expectMatches(try s.isinf(), c.output("isinf"), "isinf")
        try expectMatches(try s + 1, c.output("plus"), "nan/inf + 1")
    }

    @Test func inPlaceOpsMutateSharedStorage() throws {
        let x = try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
        let alias = x
        let view = try x.index([1])
        #expect(view.sharesStorage(with: x))
        try x.add_(10.0)
        #expect(try alias.toArray(Float.self) == [11, 12, 13, 14])
        #expect(try view.toArray(Float.self) == [13, 14])
        try view.mul_(2.0)  // writes through the view into x
        #expect(try x.toArray(Float.self) == [11, 12, 26, 28])
        try x += Tensor([1, 1] as [Float])
        #expect(try alias.toArray(Float.self) == [12, 13, 27, 29])
        try x /= 2.0
        #expect(try view.toArray(Float.self) == [13.5, 14.5])
        let copy = try x.clone()
        try x.zero_()
        #expect(try copy.toArray(Float.self) == [6, 6.5, 13.5, 14.5])
        #expect(try view.toArray(Float.self) == [0, 0])
        try x.fill_(3).clamp_(max: 2)
        #expect(try alias.toArray(Float.self) == [2, 2, 2, 2])
        try x.maskedFill_(Tensor([true, false, false, true], shape: [2, 2]), -1)
        #expect(try view.toArray(Float.self) == [2, -1])
        try view.copy_(Tensor([7, 8] as [Int]))
        #expect(try x.toArray(Float.self) == [-1, 2, 7, 8])
        // A transposed view is not contiguous yet writes reach the base.
        let t = try x.transpose(0, 1)
        #expect(!t.isContiguous)
        try t.index([0]).sub_(1.0)
        #expect(try x.toArray(Float.self) == [-2, 2, 6, 8])
    }

    /// `x.add_(10)` with an integer literal: an `Int` (Python's `int`), which keeps an integer
    /// tensor integral; a `Double` literal is Python's `float`, which an integer tensor cannot hold.
    @Test func inPlaceOpsWithIntegerLiterals() throws {
        let i = try Tensor([1, 2, 3] as [Int64])
        try i.add_(10).sub_(1).mul_(2)
        #expect(i.dtype == .int64)
        #expect(try i.toArray(Int64.self) == [20, 22, 24])
        try i.pow_(2)
        #expect(try i.toArray(Int64.self) == [400, 484, 576])
        try i += 1
        try i -= 2
        try i *= 3
        #expect(try i.toArray(Int64.self) == [1197, 1449, 1725])
        #expect(i.dtype == .int64)
        #expect(throws: TorchError.self) { try i.add_(1.5) }  // float into an int64 tensor, as in Python
        #expect(throws: TorchError.self) { try i.div_(2) }    // true division gives floats
        let f = try Tensor([1, 2, 4] as [Float])
        try f.add_(10).sub_(1).mul_(2).div_(4)
        #expect(try f.toArray(Float.self) == [5, 5.5, 6.5])
        try f /= 2
        try f += 1
        #expect(try f.toArray(Float.self) == [3.5, 3.75, 4.25])
        #expect(f.dtype == .float32)
    }
}
