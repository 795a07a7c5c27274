import Testing
@testable import Torch

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

    /// libtorch (C++) has no Meta kernels for these; Python gets them from
    /// torch/_meta_registrations.py, which libtorch alone does not load. Known gap: when the shim
    /// gains shape functions for them this test starts failing as "known issue not recorded".
    @Test func opsWithoutMetaKernelsInLibtorch() throws {
        let a = try meta([2, 1, 3]), b = try meta([4, 3]), x = try meta([3, 4, 5])
        withKnownIssue("no Meta kernel in libtorch C++: where, var, std, index_select, embedding, norm, logsumexp, layer_norm, causal sdpa") {
            expectMeta(try Tensor.where(a .> 0, a, b), [2, 4, 3])
            expectMeta(try x.variance(dim: [1]), [3, 5])
            expectMeta(try x.std(dim: [1]), [3, 5])
            expectMeta(try x.indexSelect(dim: 1, index: meta([5], .int64)), [3, 5, 5])
            expectMeta(try F.embedding(meta([2, 7], .int64), weight: meta([100, 16])), [2, 7, 16])
            let h = try meta([2, 7, 16]), q = try meta([2, 4, 7, 8])
            expectMeta(try x.norm(dim: [1]), [3, 5])
            expectMeta(try x.logsumexp(dim: 2), [3, 4])
            expectMeta(try F.layerNorm(h, normalizedShape: [16], weight: meta([16]), bias: meta([16])), [2, 7, 16])
            expectMeta(try F.scaledDotProductAttention(q, q, q, isCausal: true), [2, 4, 7, 8])
        }
    }

    @Test func readingValuesThrows() throws {
        let x = try meta([2, 2])
        #expect(throws: TorchError.self) { try x.toArray(Float.self) }
        #expect(throws: TorchError.self) { try x.sum().item(Float.self) }
        #expect(throws: TorchError.self) { try x.equal(x) }
        #expect(x.description == "tensor(..., device='meta', size=(2, 2))")
    }
}
