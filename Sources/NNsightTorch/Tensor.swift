internal import CNNsightTorch

/// An n-dimensional array on libtorch: one reference to one `at::Tensor`.
///
/// Like a Python `torch.Tensor`, a `Tensor` is a reference: two variables holding the same
/// tensor see each other's in-place writes, and views (`x[0]`, `x.view(...)`, `x.transpose(...)`)
/// share storage with their base. `clone()` makes an independent copy.
///
/// Ops throw ``TorchError``; one `try` covers a whole expression: `let h = try (x + y).relu()`.
///
/// Thread safety: a tensor may be handed from one thread to another (the intervention engine
/// does so, one side at a time), but must not be used from two threads at once.
///
/// `@unchecked Sendable`, earned by the turn-taking protocol: the object holds one immutable
/// handle, and libtorch counts references to the tensor atomically, so handing it over is safe;
/// its data, like a Python tensor's, is read and written by one thread at a time because the
/// engine hands values between the model's thread and the invokes only in turn (code outside the
/// engine that shares a tensor between threads must order its uses the same way).
public final class Tensor: @unchecked Sendable {
    /// The owned shim handle.
    let handle: ctorch_tensor

    /// Takes ownership of a +1 handle.
    init(owning handle: ctorch_tensor) {
        self.handle = handle
    }

    deinit { ctorch_tensor_free(handle) }

    /// Python: `x.dim()`.
    public var rank: Int { Int(ctorch_dim(handle)) }

    /// Python: `x.shape`.
    public var shape: [Int] {
        withUnsafeTemporaryAllocation(of: Int64.self, capacity: 16) { buffer in
            let rank = Int(ctorch_sizes(handle, buffer.baseAddress, 16))
            if rank <= 16 { return buffer.prefix(rank).map { Int($0) } }
            var sizes = [Int64](repeating: 0, count: rank)
            _ = ctorch_sizes(handle, &sizes, Int64(rank))
            return sizes.map { Int($0) }
        }
    }

    /// Python: `x.stride()`.
    public var strides: [Int] {
        var sizes = [Int64](repeating: 0, count: rank)
        _ = ctorch_strides(handle, &sizes, Int64(sizes.count))
        return sizes.map { Int($0) }
    }

    /// Python: `x.size(d)`, with negative `d` counting from the end.
    public func size(_ dim: Int) throws(TorchError) -> Int {
        let shape = shape
        let index = dim < 0 ? dim + shape.count : dim
        guard shape.indices.contains(index) else {
            throw TorchError(.index, "Dimension out of range (expected to be in range of [\(-shape.count), \(shape.count - 1)], but got \(dim))")
        }
        return shape[index]
    }

    /// Python: `x.numel()`.
    public var count: Int { Int(ctorch_numel(handle)) }

    /// Python: `x.dtype`. (Every op this library exposes yields one of the `DType` cases.)
    public var dtype: DType { DType(ctorch_dtype_of(handle)) ?? .float32 }

    /// Python: `x.device`.
    public var device: Device { Device(ctorch_device_of(handle)) }

    /// Python: `x.is_contiguous()`.
    public var isContiguous: Bool { ctorch_is_contiguous(handle) }

    /// Python: `x.storage_offset()`.
    public var storageOffset: Int { Int(ctorch_storage_offset(handle)) }

    /// False only for the placeholder a failed subscript getter returns into an error sink.
    public var isDefined: Bool { ctorch_is_defined(handle) }

    /// True when both tensors view the same storage (Python: `a.untyped_storage().data_ptr() ==
    /// b.untyped_storage().data_ptr()`).
    public func sharesStorage(with other: Tensor) -> Bool { ctorch_same_storage(handle, other.handle) }
}
