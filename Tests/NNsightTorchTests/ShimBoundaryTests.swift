import Testing
@testable import NNsightTorch

/// The C shim's one exception boundary: whatever fails inside libtorch comes back as a typed
/// error, and a context handed across the boundary (a checkpoint's owner, a hook's closure) is
/// released exactly once, also when the call fails. (That every shim function is `noexcept` is
/// checked when the shim compiles: Sources/CNNsightTorch/abi_checks.cpp.)
struct ShimBoundaryTests {
    init() throws { try torchSetUp() }

    /// Stands in for a memory-mapped file that borrowed tensors keep alive.
    private final class Owner {}

    @Test func borrowedBytesWithANegativeSizeAreATypedError() throws {
        let floats: [Float] = [1, 2, 3, 4]
        weak var watched: Owner?
        try floats.withUnsafeBytes { bytes in
            let owner = Owner()
            watched = owner
            // (-2) × (-2) × 4 bytes is the buffer's 16 bytes: only the sign is wrong.
            let error = try #require(throws: TorchError.self) {
                try Tensor(borrowing: bytes, shape: [-2, -2], dtype: .float32, owner: owner)
            }
            #expect(error.kind == .value)
            #expect(error.message.contains("negative size (-2)"))
        }
        #expect(watched == nil, "the owner is not kept by a tensor that was never made")
    }

    @Test func borrowedBytesWhoseSizeOverflowsAreATypedError() throws {
        let floats: [Float] = [1, 2, 3, 4]
        try floats.withUnsafeBytes { bytes in
            let error = try #require(throws: TorchError.self) {
                try Tensor(borrowing: bytes, shape: [Int.max / 2, 3], dtype: .float32, owner: Owner())
            }
            #expect(error.kind == .value)
            #expect(error.message.contains("needs more than \(Int.max) bytes"))
        }
    }

    @Test func libtorchRefusingABlobReleasesItsOwner() throws {
        let floats: [Float] = [1, 2, 3, 4]
        weak var watched: Owner?
        try floats.withUnsafeBytes { bytes in
            let owner = Owner()
            watched = owner
            // Past the Swift-side checks, straight to libtorch, which refuses a negative size
            // before it takes the deleter that would release the owner.
            let error = try #require(throws: TorchError.self) {
                try Tensor.viewing(bytes, sizes: [-2, -2], dtype: .float32, owner: owner)
            }
            #expect(error.message.contains("negative dimension -2"))
        }
        #expect(watched == nil, "the shim releases the context of a blob that libtorch refused")
    }

    @Test func borrowedTensorKeepsItsOwnerUntilTheLastViewGoes() throws {
        let floats: [Float] = [1, 2, 3, 4]
        weak var watched: Owner?
        var view: Tensor?
        try floats.withUnsafeBytes { bytes in
            let owner = Owner()
            watched = owner
            let whole = try Tensor(borrowing: bytes, shape: [2, 2], dtype: .float32, owner: owner)
            view = try whole.index([1])
            // `whole` dies at the end of this scope; its row lives on in `view`.
        }
        #expect(watched != nil, "a view still reads the borrowed memory")
        #expect(try view?.toArray(Float.self) == [3, 4])
        view = nil
        #expect(watched == nil, "released once, with the last tensor on the memory")
    }

    @Test func refusedGradientHookReleasesItsClosure() throws {
        final class Captured {}
        weak var watched: Captured?
        let plain = try Tensor.ones([2])  // requires no gradient: libtorch refuses a hook on it
        try {
            let captured = Captured()
            watched = captured
            let error = try #require(throws: TorchError.self) {
                try plain.registerHook { _ in withExtendedLifetime(captured) {}; return nil }
            }
            #expect(error.message.contains("doesn't require gradient"))
        }()
        #expect(watched == nil, "the hook's context is released when registration fails")
    }

    @Test func failedSubscriptReadsShareOneUndefinedTensor() throws {
        let x = try Tensor.arange(6).reshape(3, 2)
        let sink = TorchErrorSink()
        var placeholders: [Tensor] = []
        sink.installed {
            for _ in 0..<1_000 { placeholders.append(x[99]) }
        }
        #expect(sink.errors.count == 1_000)
        #expect(sink.firstError?.kind == .index)
        #expect(placeholders.allSatisfy { !$0.isDefined && $0.shape == [] })
        #expect(throws: TorchError.self) { try placeholders[0] + 1 }
        placeholders.removeAll()  // frees every handle; the shared one must survive that
        let again = sink.installed { x[99] }
        #expect(!again.isDefined)
        #expect(try x.sum().item(Int.self) == 15)
    }
}
