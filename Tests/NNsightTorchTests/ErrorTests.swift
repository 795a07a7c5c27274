import Testing
@testable import NNsightTorch

private struct HookError: Error, Equatable { let code: Int }

/// Failures become typed `TorchError`s (or go to an error sink), never crashes.
struct ErrorTests {
    init() throws { try torchSetUp() }

    @Test func shapeMismatchThrows() throws {
        let a = try Tensor.zeros([2, 3]), b = try Tensor.zeros([4])
        let error = try #require(throws: TorchError.self) { try a + b }
        #expect(error.kind == .other)
        #expect(error.message.contains("The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"))
        #expect(!error.message.contains("Exception raised from"), "no C++ backtrace")
        #expect(error.description.hasPrefix("TorchError.other: "))
        let m = try #require(throws: TorchError.self) { try a.matmul(a) }
        #expect(m.message.contains("cannot be multiplied"))
        #expect(throws: TorchError.self) { try a.reshape(4, 2) }
        #expect(throws: TorchError.self) { try Tensor.cat([a, b]) }
        // The process and the tensors stay usable.
        #expect(try (a + 1).sum().item(Float.self) == 6)
    }

    @Test func badIndexThrowsIndexError() throws {
        let x = try Tensor.arange(6).reshape(3, 2)
        let error = try #require(throws: TorchError.self) { try x.index([99]) }
        #expect(error.kind == .index)
        #expect(error.message.contains("index 99 is out of bounds for dimension 0 with size 3"))
        let tooMany = try #require(throws: TorchError.self) { try x.index([0, 0, 0]) }
        #expect(tooMany.kind == .index)
        let dim = try #require(throws: TorchError.self) { try x.sum(dim: 5) }
        #expect(dim.kind == .index)
        #expect(dim.message.contains("Dimension out of range"))
        #expect(throws: TorchError.self) { try x.indexPut([Tensor([7] as [Int])], 1) }
    }

    @Test func dtypeErrorsThrow() throws {
        let i = try Tensor.arange(4).reshape(2, 2), f = try Tensor.ones([2, 2])
        let matmul = try #require(throws: TorchError.self) { try i.matmul(f) }
        #expect(matmul.message.contains("dtype"))
        let grad = try #require(throws: TorchError.self) { try i.requiresGrad_() }
        #expect(grad.message.contains("floating point"))
        #expect(throws: TorchError.self) { try F.embedding(f, weight: f) }
        #expect(throws: TorchError.self) { try Tensor.ones([2], dtype: .bool).requiresGrad_() }
    }

    @Test func failingSubscriptSetterGoesToTheSink() throws {
        let x = try Tensor.zeros([3])
        let error = try #require(throws: TorchError.self) {
            try TorchErrorSink.collect { x[99] = 1 }
        }
        #expect(error.kind == .index)
        #expect(error.message.contains("out of bounds"))
        // A shape mismatch in the value.
        let shape = try #require(throws: TorchError.self) {
            try TorchErrorSink.collect { x[.all] = try Tensor([1, 2] as [Float]) }
        }
        #expect(shape.message.contains("must match the existing size"))
        #expect(try x.toArray(Float.self) == [0, 0, 0], "nothing was written")
    }

    @Test func failingSubscriptGetterReturnsUndefinedTensor() throws {
        let x = try Tensor.zeros([2, 2])
        let sink = TorchErrorSink()
        let bad = sink.installed { x[5, 0] }
        #expect(sink.errors.count == 1)
        #expect(sink.firstError?.kind == .index)
        #expect(!bad.isDefined)
        // Every op on the placeholder fails cleanly, inside or outside the sink.
        #expect(throws: TorchError.self) { try bad + 1 }
        #expect(throws: TorchError.self) { try bad.sum() }
        #expect(throws: TorchError.self) { try bad.toArray(Float.self) }
        #expect(throws: TorchError.self) { try x + bad }
        sink.clear()
        #expect(sink.errors.isEmpty)
        // The first error wins when several are recorded.
        let first = try #require(throws: TorchError.self) {
            try TorchErrorSink.collect {
                x[9] = 1
                _ = x[.all, 7]
            }
        }
        #expect(first.message.contains("index 9"))
    }

    @Test func requiresGradSetterOnIntegersGoesToTheSink() throws {
        let i = try Tensor.arange(3)
        let error = try #require(throws: TorchError.self) {
            try TorchErrorSink.collect { i.requiresGrad = true }
        }
        #expect(error.message.contains("floating point"))
        #expect(!i.requiresGrad)
    }

    @Test func collectRethrowsTheBodysOwnError() throws {
        let error = try #require(throws: HookError.self) {
            try TorchErrorSink.collect { throw HookError(code: 3) }
        }
        #expect(error == HookError(code: 3))
    }

    @Test func throwingGradientHookFailsBackward() throws {
        let a = try Tensor([1, 2] as [Float], requiresGrad: true)
        let h = try a * 2
        try h.registerHook { _ in throw HookError(code: 42) }
        let error = try #require(throws: TorchError.self) { try h.sum().backward() }
        #expect(error.kind == .hookFailed)
        #expect(error.underlying as? HookError == HookError(code: 42))
        // A later backward on a fresh graph works.
        try (a * 3).sum().backward()
        #expect(try #require(a.grad).toArray(Float.self) == [3, 3])
    }

    @Test func failureOutsideAnySinkStopsTheProcess() async {
        await #expect(processExitsWith: .failure) {
            try? Torch.setNumThreads(1)
            let x = try! Tensor.zeros([3])
            x[99] = 1
        }
    }
}
