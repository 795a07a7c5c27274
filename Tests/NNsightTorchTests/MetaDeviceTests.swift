import Testing
@testable import NNsightTorch

/// Shape-only runs: every op family on `.meta` tensors gives PyTorch's shapes and dtypes and
/// reads no data.
struct MetaDeviceTests {
    init() throws { try torchSetUp() }

    func meta(_ shape: [Int], _ dtype: DType = .float32) throws -> Tensor {
        try Tensor.empty(shape, dtype: dtype, device: .meta)
    }

    func expectMeta(_ make: @autoclosure () throws -> Tensor, _ shape: [Int], _ dtype: DType = .float32,
                    sourceLocation: SourceLocation = #_sourceLocation) {
        let t: Tensor
        do { t = try make() } catch {
            Issue.record(error, sourceLocation: sourceLocation)
            return
        }
        #expect(t.device == .meta, sourceLocation: sourceLocation)
        #expect(t.shape == shape, sourceLocation: sourceLocation)
        #expect(t.dtype == dtype, sourceLocation: sourceLocation)
    }

    @Test func creation() throws {
        expectMeta(try Tensor.zeros([2, 3], device: .meta), [2, 3])
        expectMeta(try Tensor.ones([4], dtype: .int64, device: .meta), [4], .int64)
        expectMeta(try Tensor.full([2], 1.5, device: .meta), [2])
        expectMeta(try Tensor.randn([3, 5], device: .meta), [3, 5])
        expectMeta(try Tensor.rand([3], generator: Generator(seed: 1), device: .meta), [3])
        expectMeta(try Tensor.arange(0, 10, step: 2, device: .meta), [5], .int64)
        expectMeta(try Tensor.eye(3, device: .meta), [3, 3])
        expectMeta(try Tensor.linspace(0, 1, steps: 7, device: .meta), [7])
        expectMeta(try Tensor.ones([2, 2]).to(device: .meta), [2, 2])
        expectMeta(try meta([2]).zerosLike(), [2])
    }

    @Test func arithmeticAndPromotion() throws {
        let a = try meta([2, 1, 3]), b = try meta([4, 3]), i = try meta([4, 3], .int64)
        expectMeta(try a + b, [2, 4, 3])
        expectMeta(try a * 2, [2, 1, 3])
        expectMeta(try i + 1.5, [4, 3])
        expectMeta(try i / 2, [4, 3])
        expectMeta(try i * 2, [4, 3], .int64)
        expectMeta(try i + b, [4, 3])
        expectMeta(try a .> b, [2, 4, 3], .bool)
        expectMeta(try a.exp().tanh().clamp(min: 0), [2, 1, 3])
        expectMeta(try a.matmul(try meta([3, 5])), [2, 1, 5])
        expectMeta(try b.to(.bfloat16), [4, 3], .bfloat16)
        #expect(throws: TorchError.self) { try a + meta([5]) }
        try a.add_(1.0)
        expectMeta(a, [2, 1, 3])
    }

    @Test func reductions() throws {
        let x = try meta([3, 4, 5])
        expectMeta(try x.sum(), [])
        expectMeta(try x.sum(dim: 1, keepDim: true), [3, 1, 5])
        expectMeta(try x.mean(dim: [0, 2]), [4])
        let (v, i) = try x.max(dim: 2)
        expectMeta(v, [3, 4])
        expectMeta(i, [3, 4], .int64)
        expectMeta(try x.argmax(dim: 0), [4, 5], .int64)
        expectMeta(try x.softmax(dim: -1), [3, 4, 5])
        expectMeta(try x.cumsum(dim: 1), [3, 4, 5])
        expectMeta(try meta([3], .int32).sum(), [], .int64)
    }

    @Test func shapeOps() throws {
        let x = try meta([2, 3, 4])
        expectMeta(try x.reshape(6, -1), [6, 4])
        expectMeta(try x.view(4, 6), [4, 6])
        expectMeta(try x.permute(2, 0, 1), [4, 2, 3])
        expectMeta(try x.transpose(0, 1).contiguous(), [3, 2, 4])
        expectMeta(try x.unsqueeze(1).squeeze(dim: 1), [2, 3, 4])
        expectMeta(try meta([3, 1]).expand(3, 4), [3, 4])
        expectMeta(try x.repeat(2, 1, 1), [4, 3, 4])
        expectMeta(try Tensor.cat([x, x], dim: 2), [2, 3, 8])
        expectMeta(try Tensor.stack([x, x]), [2, 2, 3, 4])
        #expect(try x.split(3, dim: 2).map(\.shape) == [[2, 3, 3], [2, 3, 1]])
        #expect(try x.chunk(2, dim: 1).map(\.shape) == [[2, 2, 4], [2, 1, 4]])
        expectMeta(try x.flatten(startDim: 1), [2, 12])
        expectMeta(try x.narrow(dim: 2, start: 1, length: 2), [2, 3, 2])
        expectMeta(try x.gather(dim: 2, index: meta([2, 3, 1], .int64)), [2, 3, 1])
        expectMeta(try x.maskedFill(try meta([4], .bool), 0), [2, 3, 4])
        let (tv, ti) = try x.topk(2)
        expectMeta(tv, [2, 3, 2])
        expectMeta(ti, [2, 3, 2], .int64)
        expectMeta(try x.sort(dim: 1).values, [2, 3, 4])
        expectMeta(try meta([4, 4]).tril(), [4, 4])
    }

    @Test func indexing() throws {
        let x = try meta([3, 4, 5])
        expectMeta(x[0], [4, 5])
        expectMeta(x[.ellipsis, -1], [3, 4])
        expectMeta(x[.newAxis, .all, 1..<3], [1, 3, 2, 5])
        expectMeta(x[.slice(step: 2)], [2, 4, 5])
        expectMeta(try x.index([try meta([2], .int64)]), [2, 4, 5])
        try TorchErrorSink.collect { x[.all, 0] = 1 }
        expectMeta(x, [3, 4, 5])
    }

    @Test func functional() throws {
        let x = try meta([2, 7, 16])
        expectMeta(try F.linear(x, weight: meta([8, 16]), bias: meta([8])), [2, 7, 8])
        expectMeta(try F.rmsNorm(x, normalizedShape: [16], weight: meta([16])), [2, 7, 16])
        expectMeta(try F.gelu(x, approximate: .tanh), [2, 7, 16])
        expectMeta(try F.silu(x), [2, 7, 16])
        expectMeta(try F.dropout(x, p: 0.1, training: false), [2, 7, 16])
        expectMeta(try F.crossEntropy(meta([7, 10]), meta([7], .int64)), [])
    }

    @Test func autogradShapes() throws {
        let w = try meta([3, 2]).requiresGrad_()
        let y = try meta([4, 3]).matmul(w).sum()
        #expect(y.requiresGrad && y.device == .meta)
        try y.backward()
        expectMeta(try #require(w.grad), [3, 2])
    }

    // MARK: - The real op is the oracle

    /// An input of the oracle tests: a shape and a dtype. On the CPU it holds valid values: rand
    /// for floats, false for Bool, and 1 for integers (an index in range, a divisor not zero), or
    /// 0 for `zeros` (an index into a dimension of size 1 or a scalar).
    struct Arg {
        var shape: [Int]
        var dtype: DType = .float32
        var zeros = false
        static func f(_ shape: Int...) -> Arg { Arg(shape: shape) }
        static func bf16(_ shape: Int...) -> Arg { Arg(shape: shape, dtype: .bfloat16) }
        static func long(_ shape: Int...) -> Arg { Arg(shape: shape, dtype: .int64) }
        static func int(_ shape: Int...) -> Arg { Arg(shape: shape, dtype: .int32) }
        static func bool(_ shape: Int...) -> Arg { Arg(shape: shape, dtype: .bool) }
        static func zeros(_ shape: Int...) -> Arg { Arg(shape: shape, dtype: .int64, zeros: true) }

        func cpu() throws -> Tensor {
            if dtype.isFloatingPoint { return try Tensor.rand(shape, dtype: dtype) }
            return dtype == .bool || zeros ? try Tensor.zeros(shape, dtype: dtype) : try Tensor.ones(shape, dtype: dtype)
        }
        func meta() throws -> Tensor { try Tensor.empty(shape, dtype: dtype, device: .meta) }
    }

    /// Runs `op` on real CPU tensors and on meta tensors of the same shapes and dtypes: every
    /// output must agree in shape and dtype, the meta ones staying on the meta device.
    func expectParity(_ args: [Arg], sourceLocation: SourceLocation = #_sourceLocation,
                      _ op: ([Tensor]) throws -> [Tensor]) {
        do {
            let real = try op(args.map { try $0.cpu() })
            let shapes = try op(args.map { try $0.meta() })
            #expect(shapes.count == real.count, sourceLocation: sourceLocation)
            for (m, r) in zip(shapes, real) {
                #expect(r.device == .cpu, sourceLocation: sourceLocation)
                #expect(m.device == .meta, sourceLocation: sourceLocation)
                #expect(m.shape == r.shape, sourceLocation: sourceLocation)
                #expect(m.dtype == r.dtype, sourceLocation: sourceLocation)
            }
        } catch {
            Issue.record(error, sourceLocation: sourceLocation)
        }
    }

    func expectParity(_ args: Arg..., sourceLocation: SourceLocation = #_sourceLocation,
                      _ op: ([Tensor]) throws -> Tensor) {
        expectParity(args, sourceLocation: sourceLocation) { x in [try op(x)] }
    }

    /// The same bad shapes fail on the CPU and on meta with the same kind of error.
    func expectSameError(_ args: Arg..., sourceLocation: SourceLocation = #_sourceLocation,
                         _ op: ([Tensor]) throws -> Any) {
        func kind(_ inputs: () throws -> [Tensor]) -> TorchError.Kind? {
            do {
                _ = try op(try inputs())
                return nil
            } catch let error as TorchError {
                return error.kind
            } catch {
                Issue.record(error, sourceLocation: sourceLocation)
                return nil
            }
        }
        let real = kind { try args.map { try $0.cpu() } }
        let meta = kind { try args.map { try $0.meta() } }
        #expect(real != nil, "the CPU op should fail", sourceLocation: sourceLocation)
        #expect(meta == real, sourceLocation: sourceLocation)
    }

    /// Ops whose libtorch (C++) form has no Meta kernel (Python gets them from
    /// torch/_meta_registrations.py): the shim's shape rules (Sources/CTorch/meta.cpp).
    @Test func opsWithoutMetaKernelsInLibtorch() throws {
        // where: broadcasting all three, promoting a and b (a CPU scalar takes part as a number).
        expectParity(.bool(2, 1, 3), .f(2, 1, 3), .f(4, 3)) { x in try Tensor.where(x[0], x[1], x[2]) }
        expectParity(.bool(4, 1), .long(3), .int(4, 3)) { x in try Tensor.where(x[0], x[1], x[2]) }
        expectParity(.bool(3), .long(3)) { x in try Tensor.where(x[0], x[1], .scalar(1.5)) }
        expectParity(.bool(2, 3), .bf16(2, 3)) { x in try Tensor.where(x[0], x[1], .scalar(2.0)) }
        // var, std: dims (negative, several, none), keepdim, correction.
        for args in [[0], [-1], [0, 2], []] as [[Int]] {
            expectParity(.f(3, 4, 5)) { x in try x[0].variance(dim: args) }
            expectParity(.f(3, 4, 5)) { x in try x[0].std(dim: args, keepDim: true) }
        }
        expectParity(.f(3, 4, 5)) { x in try x[0].variance() }
        expectParity(.bf16(3, 4, 5)) { x in try x[0].std(dim: [1], correction: 0) }
        expectParity(.f(5)) { x in try x[0].std(dim: [0], keepDim: true) }
        // logsumexp: integers become floats.
        expectParity(.f(3, 4, 5)) { x in try x[0].logsumexp(dim: 2) }
        expectParity(.f(3, 4, 5)) { x in try x[0].logsumexp(dim: [-1, 0], keepDim: true) }
        expectParity(.f(3, 4, 5)) { x in try x[0].logsumexp() }
        expectParity(.long(3, 4)) { x in try x[0].logsumexp(dim: 1) }
        expectParity(.bool(3, 4)) { x in try x[0].logsumexp(dim: 0) }
        // prod over everything: integers and Bool become int64.
        expectParity(.f(3, 4)) { x in try x[0].prod() }
        expectParity(.int(3, 4)) { x in try x[0].prod() }
        expectParity(.bool(3, 4)) { x in try x[0].prod() }
        // norm (linalg.vector_norm).
        expectParity(.f(3, 4, 5)) { x in try x[0].norm(dim: [1]) }
        expectParity(.f(3, 4, 5)) { x in try x[0].norm(1, dim: [0, -1], keepDim: true) }
        expectParity(.f(3, 4, 5)) { x in try x[0].norm() }
        // index_select, embedding.
        expectParity(.f(3, 4, 5), .long(5)) { x in try x[0].indexSelect(dim: 1, index: x[1]) }
        expectParity(.f(3, 4, 5), .int(2)) { x in try x[0].indexSelect(dim: -1, index: x[1]) }
        expectParity(.f(3, 4, 5), .long()) { x in try x[0].indexSelect(dim: 0, index: x[1]) }
        expectParity(.f(), .zeros(1)) { x in try x[0].indexSelect(dim: 0, index: x[1]) }
        expectParity(.long(2, 7), .f(100, 16)) { x in try F.embedding(x[0], weight: x[1]) }
        expectParity(.int(3), .bf16(10, 4)) { x in try F.embedding(x[0], weight: x[1]) }
        expectParity(.long(), .f(10, 4)) { x in try F.embedding(x[0], weight: x[1]) }
        // layer_norm, with and without affine parameters, several normalised dims.
        expectParity(.f(2, 7, 16), .f(16), .f(16)) { x in
            try F.layerNorm(x[0], normalizedShape: [16], weight: x[1], bias: x[2])
        }
        expectParity(.f(2, 7, 16)) { x in try F.layerNorm(x[0], normalizedShape: [7, 16]) }
        expectParity(.bf16(2, 16), .bf16(16)) { x in try F.layerNorm(x[0], normalizedShape: [16], weight: x[1]) }
        // scaled_dot_product_attention: causal, masks (bool, float, broadcasting), GQA, Ev != E,
        // three dims, two dims.
        expectParity(.f(2, 4, 7, 8), .f(2, 4, 7, 8), .f(2, 4, 7, 8)) { x in
            try F.scaledDotProductAttention(x[0], x[1], x[2], isCausal: true)
        }
        expectParity(.f(2, 4, 3, 8), .f(2, 4, 5, 8), .f(2, 4, 5, 6)) { x in
            try F.scaledDotProductAttention(x[0], x[1], x[2])
        }
        expectParity(.f(2, 4, 3, 8), .f(2, 4, 5, 8), .f(2, 4, 5, 8), .bool(2, 1, 3, 5)) { x in
            try F.scaledDotProductAttention(x[0], x[1], x[2], mask: x[3])
        }
        expectParity(.f(2, 4, 3, 8), .f(2, 4, 5, 8), .f(2, 4, 5, 8), .f(3, 5)) { x in
            try F.scaledDotProductAttention(x[0], x[1], x[2], mask: x[3], scale: 0.5)
        }
        expectParity(.f(2, 4, 3, 8), .f(2, 2, 5, 8), .f(2, 2, 5, 6)) { x in
            try F.scaledDotProductAttention(x[0], x[1], x[2], isCausal: true, enableGQA: true)
        }
        expectParity(.f(2, 4, 3, 8), .f(2, 1, 5, 8), .f(2, 1, 5, 6)) { x in
            try F.scaledDotProductAttention(x[0], x[1], x[2])
        }
        expectParity(.f(4, 3, 8), .f(4, 5, 8), .f(4, 5, 8)) { x in
            try F.scaledDotProductAttention(x[0], x[1], x[2], dropout: 0.1)
        }
        expectParity(.f(3, 8), .f(5, 8), .f(5, 2)) { x in try F.scaledDotProductAttention(x[0], x[1], x[2]) }
        expectParity(.bf16(1, 2, 3, 8), .bf16(1, 2, 3, 8), .bf16(1, 2, 3, 8)) { x in
            try F.scaledDotProductAttention(x[0], x[1], x[2], isCausal: true)
        }
        // cross entropy over spatial dimensions ([N, C, d...]), every reduction.
        for reduction in [F.Reduction.none, .mean, .sum] {
            expectParity(.f(2, 10, 7), .long(2, 7)) { x in try F.crossEntropy(x[0], x[1], reduction: reduction) }
            expectParity(.f(2, 10, 7, 3), .long(2, 7, 3)) { x in
                try F.crossEntropy(x[0], x[1], reduction: reduction, labelSmoothing: 0.1)
            }
            expectParity(.f(2, 10, 7), .f(2, 10, 7)) { x in try F.crossEntropy(x[0], x[1], reduction: reduction) }
        }
        // elementwise ops without meta kernels.
        expectParity(.f(3, 1), .f(4)) { x in try x[0].floorDivide(x[1]) }
        expectParity(.long(3, 1), .int(4)) { x in try x[0].floorDivide(x[1]) }
        expectParity(.long(3, 4)) { x in try x[0].floorDivide(2) }
        expectParity(.f(3, 4)) { x in try x[0].floorDivide(2) }
        expectParity(.f(3, 1), .long(4)) { x in try x[0] .&& x[1] }
        expectParity(.bool(3, 1), .bool(4)) { x in try x[0] .|| x[1] }
        expectParity(.f(3, 1), .bool(3, 4)) { x in try x[0].logicalXor(x[1]) }
        expectParity(.f(3, 4)) { x in try x[0].logicalNot() }
        expectParity(.f(3, 4)) { x in try x[0].isnan() }
        expectParity(.long(3, 4)) { x in try x[0].isinf() }
        expectParity(.f(3, 4)) { x in try x[0].abs() }
        expectParity(.int(3, 4)) { x in try x[0].abs() }
        expectParity(.bf16(3, 4)) { x in try x[0].relu() }
        expectParity(.long(3, 4)) { x in try F.relu(x[0]) }
        // matmul of two vectors (dot).
        expectParity(.f(5), .f(5)) { x in try x[0].matmul(x[1]) }
        expectParity(.long(5), .long(5)) { x in try x[0].matmul(x[1]) }
    }

    /// Ops that libtorch runs on meta itself, against the CPU all the same.
    @Test func everyOtherOpMatchesCPU() throws {
        // unary
        expectParity(.f(3, 4)) { x in try x[0].exp().log().sqrt().rsqrt().tanh().sin().cos().sigmoid() }
        expectParity(.long(3, 4)) { x in try x[0].exp() }
        expectParity(.long(3, 4)) { x in try x[0].sqrt() }
        expectParity(.long(3, 4)) { x in try -x[0] }
        expectParity(.f(3, 4)) { x in try x[0].erf().floor().ceil().round().trunc().sign().reciprocal().square() }
        expectParity(.long(3, 4)) { x in try x[0].square() }
        expectParity(.f(3, 4)) { x in try x[0].log2().silu().gelu().gelu(approximate: .tanh) }
        expectParity(.f(3, 4)) { x in try x[0].clone().detach().contiguous() }
        // binary, broadcasting and promotion
        for (a, b) in [(Arg.f(2, 1, 3), Arg.f(4, 3)), (.long(4, 3), .f(3)), (.int(4, 1), .long(3)), (.bf16(3), .f(2, 1))] {
            expectParity([a, b]) { x in
                [try x[0] + x[1], try x[0] - x[1], try x[0] * x[1], try x[0] / x[1], try x[0] % x[1],
                 try x[0].pow(x[1]), try x[0].maximum(x[1]), try x[0].minimum(x[1]), try x[0].atan2(x[1]),
                 try x[0] .== x[1], try x[0] .!= x[1], try x[0] .< x[1], try x[0] .<= x[1], try x[0] .> x[1],
                 try x[0] .>= x[1]]
            }
        }
        // scalars, and numbers on the left
        expectParity([.long(3, 4)]) { x in
            [try x[0] + 1, try x[0] + 1.5, try x[0] * 2, try x[0] / 2, try x[0] - 2.5, try x[0] % 3,
             try x[0].pow(2), try x[0].pow(0.5), try 1 - x[0], try 2 / x[0], try Tensor.pow(2, x[0]),
             try x[0] .== 1, try x[0] .> 0.5]
        }
        expectParity([.bf16(3, 4)]) { x in [try x[0] + 1, try x[0] * 2.5, try 1.5 / x[0], try x[0].clamp(min: 0, max: 1)] }
        expectParity(.long(3, 4)) { x in try x[0].clamp(min: 0.5) }
        // matmul in every other arrangement, linear
        for (a, b) in [(Arg.f(5), Arg.f(5, 2)), (.f(2, 5), .f(5)), (.f(3, 2, 5), .f(5)), (.f(5), .f(3, 5, 2)),
                       (.f(2, 1, 3, 5), .f(4, 5, 2)), (.long(3, 5), .long(5, 2))] {
            expectParity(a, b) { x in try x[0].matmul(x[1]) }
        }
        expectParity(.f(2, 7, 16), .f(8, 16), .f(8)) { x in try F.linear(x[0], weight: x[1], bias: x[2]) }
        expectParity(.f(16), .f(8, 16)) { x in try F.linear(x[0], weight: x[1]) }
        // reductions with dims, keepdim, negative dims, dtypes
        for dims in [nil, [1], [-1], [0, 2]] as [[Int]?] {
            expectParity(.f(3, 4, 5)) { x in try x[0].sum(dim: dims) }
            expectParity(.int(3, 4, 5)) { x in try x[0].sum(dim: dims, keepDim: true) }
            expectParity(.f(3, 4, 5)) { x in try x[0].mean(dim: dims, keepDim: true) }
            expectParity(.f(3, 4, 5)) { x in try x[0].max(dim: dims) }
            expectParity(.long(3, 4, 5)) { x in try x[0].min(dim: dims, keepDim: true) }
        }
        expectParity(.bool(3, 4)) { x in try x[0].sum() }
        expectParity(.f(3, 4)) { x in try x[0].sum(dtype: .float64) }
        expectParity(.f(3, 4, 5)) { x in try x[0].prod(dim: -2, keepDim: true) }
        expectParity(.int(3, 4, 5)) { x in try x[0].prod(dim: 0) }
        expectParity(.f(3, 4)) { x in try x[0].all() }
        expectParity(.long(3, 4)) { x in try x[0].any() }
        for keep in [false, true] {
            expectParity([.f(3, 4, 5)]) { x in let (v, i) = try x[0].max(dim: -1, keepDim: keep); return [v, i] }
            expectParity([.long(3, 4, 5)]) { x in let (v, i) = try x[0].min(dim: 1, keepDim: keep); return [v, i] }
            expectParity(.f(3, 4, 5)) { x in try x[0].argmax(dim: 0, keepDim: keep) }
            expectParity(.f(3, 4, 5)) { x in try x[0].argmin(dim: -2, keepDim: keep) }
        }
        expectParity(.f(3, 4, 5)) { x in try x[0].argmax() }
        expectParity(.f(3, 4, 5)) { x in try x[0].softmax(dim: -1) }
        expectParity(.bf16(3, 4, 5)) { x in try x[0].logSoftmax(dim: 1) }
        expectParity(.f(3, 4, 5)) { x in try x[0].cumsum(dim: 1) }
        expectParity(.int(3, 4)) { x in try x[0].cumsum(dim: 0) }
        expectParity(.bool(3, 4)) { x in try x[0].cumsum(dim: -1) }
        // sorting and selection
        expectParity([.f(3, 4, 5)]) { x in let (v, i) = try x[0].topk(2); return [v, i] }
        expectParity([.long(3, 4, 5)]) { x in let (v, i) = try x[0].topk(3, dim: 1, largest: false); return [v, i] }
        expectParity([.f(3, 4, 5)]) { x in let (v, i) = try x[0].sort(dim: 1, descending: true); return [v, i] }
        expectParity(.f(3, 4, 5)) { x in try x[0].argsort(dim: 0) }
        expectParity(.f(3, 4, 5), .long(3, 4, 2)) { x in try x[0].gather(dim: 2, index: x[1]) }
        expectParity(.f(3, 4, 5), .bool(4, 1)) { x in try x[0].maskedFill(x[1], 0) }
        expectParity(.long(3, 4, 5), .bool(5)) { x in try x[0].maskedFill(x[1], 7) }
        expectParity(.f(4, 6)) { x in try x[0].tril(-1) }
        expectParity(.long(2, 4, 6)) { x in try x[0].triu(1) }
        // joining and splitting
        expectParity(.f(2, 3, 4), .f(2, 3, 1)) { x in try Tensor.cat([x[0], x[1]], dim: -1) }
        expectParity(.f(2, 3), .f(2, 3)) { x in try Tensor.stack([x[0], x[1]], dim: 1) }
        expectParity([.f(2, 3, 7)]) { x in try x[0].split(3, dim: 2) }
        expectParity([.f(2, 3, 7)]) { x in try x[0].split(sizes: [1, 2], dim: 1) }
        expectParity([.f(5, 3)]) { x in try x[0].chunk(3) }
        // indexing with tensors, reading and writing
        expectParity(.f(3, 4, 5), .long(2)) { x in try x[0].index([x[1]]) }
        expectParity(.f(3, 4, 5), .long(2, 2), .long(2)) { x in try x[0].index([TensorIndex.all, x[1], x[2]]) }
        expectParity(.f(3, 4, 5), .long(2)) { x in try x[0].index([TensorIndex.ellipsis, x[1], TensorIndex.newAxis]) }
        expectParity(.f(3, 4, 5), .long(2)) { x in
            try x[0].indexPut([x[1]], .scalar(1.0))
            return x[0]
        }
        expectParity(.f(3, 4, 5), .bool(3, 4)) { x in
            try x[0].indexPut([x[1]], .scalar(1))
            return x[0]
        }
        expectParity(.f(3, 4, 5), .f(4, 5)) { x in
            try x[0].indexPut([TensorIndex.all, 1..<3], x[1][1..<3])
            return x[0]
        }
        // neural-network functions
        expectParity(.f(2, 7, 16), .f(16)) { x in try F.rmsNorm(x[0], normalizedShape: [16], weight: x[1]) }
        expectParity(.bf16(2, 7, 16), .f(16)) { x in try F.rmsNorm(x[0], normalizedShape: [16], weight: x[1], eps: 1e-6) }
        expectParity(.f(2, 7, 16)) { x in try F.dropout(x[0], p: 0.1, training: true) }
        expectParity(.f(2, 7, 16)) { x in try F.dropout(x[0], p: 0.1, training: false) }
        for reduction in [F.Reduction.none, .mean, .sum] {
            expectParity(.f(7, 10), .long(7)) { x in try F.crossEntropy(x[0], x[1], reduction: reduction) }
            expectParity(.f(10), .long()) { x in try F.crossEntropy(x[0], x[1], reduction: reduction) }
            expectParity(.f(7, 10), .f(7, 10)) { x in try F.crossEntropy(x[0], x[1], reduction: reduction, labelSmoothing: 0.2) }
        }
        expectParity(.f(2, 7, 16)) { x in try F.softmax(x[0], dim: -1) }
        expectParity(.f(2, 7, 16)) { x in try F.logSoftmax(x[0], dim: 0) }
        // conversions and in-place ops
        expectParity(.f(3, 4)) { x in try x[0].to(.bfloat16) }
        expectParity(.long(3, 4)) { x in try x[0].to(.float32) }
        expectParity(.f(3, 4), .f(4)) { x in try x[0].copy_(x[1]) }
        expectParity(.long(3, 4), .f(3, 1)) { x in try x[0].copy_(x[1]) }
        expectParity(.f(3, 4), .f(4)) { x in
            try x[0].add_(x[1]).sub_(x[1]).mul_(x[1]).div_(x[1]).add_(1.0).mul_(2).pow_(2.0)
        }
        expectParity(.long(3, 4)) { x in try x[0].add_(1).sub_(2).mul_(3).pow_(2) }
        expectParity(.f(3, 4), .bool(4)) { x in try x[0].maskedFill_(x[1], 1.5).clamp_(min: 0).fill_(2).zero_() }
        expectParity(.f(3, 4)) { x in try x[0].uniform_().normal_() }
    }

    /// A bad shape fails on meta with the same kind of error as on the CPU (what `scan` promises).
    @Test func errorKindsMatchCPU() throws {
        // a dimension out of range: IndexError
        expectSameError(.f(3, 4)) { x in try x[0].variance(dim: [2]) }
        expectSameError(.f(3, 4)) { x in try x[0].std(dim: [-3]) }
        expectSameError(.f(3, 4)) { x in try x[0].logsumexp(dim: 5) }
        expectSameError(.f(3, 4), .long(2)) { x in try x[0].indexSelect(dim: 2, index: x[1]) }
        expectSameError(.f(3, 4), .long(2, 2)) { x in try x[0].indexSelect(dim: 0, index: x[1]) }
        expectSameError(.f(3, 4)) { x in try x[0].sum(dim: [3]) }
        expectSameError(.f(3, 4)) { x in try x[0].softmax(dim: 2) }
        // broadcasting and shape mismatches
        expectSameError(.bool(3), .f(4), .f(3)) { x in try Tensor.where(x[0], x[1], x[2]) }
        expectSameError(.f(3), .f(4)) { x in try x[0].floorDivide(x[1]) }
        expectSameError(.f(3), .f(4)) { x in try x[0] .&& x[1] }
        expectSameError(.f(3), .f(4)) { x in try x[0].matmul(x[1]) }
        expectSameError(.f(3), .f(2, 4)) { x in try x[0] + x[1] }
        expectSameError(.f(2, 3), .f(4)) { x in try F.layerNorm(x[0], normalizedShape: [4]) }
        expectSameError(.f(2, 3), .f(4)) { x in try F.layerNorm(x[0], normalizedShape: [3], weight: x[1]) }
        expectSameError(.f(2, 3, 4), .f(2, 3, 5), .f(2, 3, 5)) { x in try F.scaledDotProductAttention(x[0], x[1], x[2]) }
        expectSameError(.f(2, 3, 4), .f(3, 5, 4), .f(3, 5, 4)) { x in try F.scaledDotProductAttention(x[0], x[1], x[2]) }
        expectSameError(.f(2, 4, 3, 8), .f(2, 3, 5, 8), .f(2, 3, 5, 8)) { x in
            try F.scaledDotProductAttention(x[0], x[1], x[2], enableGQA: true)
        }
        expectSameError(.f(2, 3, 4), .f(2, 3, 4), .f(2, 3, 4), .bool(3, 3)) { x in
            try F.scaledDotProductAttention(x[0], x[1], x[2], mask: x[3], isCausal: true)
        }
        expectSameError(.f(2, 3, 4), .f(2, 3, 4), .f(2, 3, 4), .bool(4, 3)) { x in
            try F.scaledDotProductAttention(x[0], x[1], x[2], mask: x[3])
        }
        expectSameError(.f(2, 10, 7), .long(2, 6)) { x in try F.crossEntropy(x[0], x[1], reduction: .none) }
        expectSameError(.f(2, 10, 7), .long(3, 7)) { x in try F.crossEntropy(x[0], x[1]) }
        // wrong dtypes and ranks
        expectSameError(.f(3), .f(3), .f(3)) { x in try Tensor.where(x[0], x[1], x[2]) }
        expectSameError(.long(3, 4)) { x in try x[0].variance(dim: [1]) }
        expectSameError(.f(3, 4), .f(2)) { x in try x[0].indexSelect(dim: 0, index: x[1]) }
        expectSameError(.long(2), .f(10)) { x in try F.embedding(x[0], weight: x[1]) }
        expectSameError(.f(2), .f(10, 4)) { x in try F.embedding(x[0], weight: x[1]) }
        expectSameError(.bool(3), .bool(3)) { x in try x[0].floorDivide(x[1]) }
        expectSameError(.bool(3)) { x in try x[0].abs() }
        expectSameError(.f(4), .long(4)) { x in try x[0].matmul(x[1]) }
    }

    /// Real tensors and meta tensors do not mix (other than CPU scalars), as in libtorch.
    @Test func mixingDevicesFails() throws {
        let m = try meta([3]), c = try Tensor.zeros([3])
        #expect(throws: TorchError.self) { try Tensor.where(m .> 0, m, c) }
        #expect(throws: TorchError.self) { try c.floorDivide(m) }
        expectMeta(try Tensor.where(m .> 0, m, .scalar(0.0)), [3])
    }

    /// The rules keep autograd's shape checks: a backward pass on meta gives each input a gradient
    /// of its own shape.
    @Test func rulesKeepGradients() throws {
        let x = try meta([2, 7, 16]).requiresGrad_(), w = try meta([16]).requiresGrad_()
        let y = try F.layerNorm(x, normalizedShape: [16], weight: w).logsumexp(dim: -1).sum()
        #expect(y.requiresGrad)
        try y.backward()
        expectMeta(try #require(x.grad), [2, 7, 16])
        expectMeta(try #require(w.grad), [16])
        let z = try Torch.noGrad { try F.layerNorm(x, normalizedShape: [16], weight: w) }
        #expect(!z.requiresGrad)
    }

    @Test func readingValuesThrows() throws {
        let x = try meta([2, 2])
        #expect(throws: TorchError.self) { try x.toArray(Float.self) }
        #expect(throws: TorchError.self) { try x.sum().item(Float.self) }
        #expect(throws: TorchError.self) { try x.equal(x) }
        #expect(x.description == "tensor(..., device='meta', size=(2, 2))")
        func expectValueError(_ body: () throws -> Any, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(sourceLocation: sourceLocation) { _ = try body() } throws: { error in
                (error as? TorchError)?.kind == .value
                    && (error as? TorchError)?.message.contains("is not available on the meta device") == true
            }
        }
        expectValueError { try x.toArray(Float.self) }
        expectValueError { try x.sum().item(Float.self) }
        expectValueError { try x.sum().item(Int.self) }
        expectValueError { try (x .> 0).all().item(Bool.self) }
        expectValueError { try x.equal(x) }
        expectValueError { try x.allclose(x) }
        expectValueError { try x.softmax(dim: -1).multinomial(1) }
        expectValueError { try x.index([try meta([2], .bool)]) }
        expectValueError { try x.index([try meta([2, 2], .uint8)]) }
    }
}
