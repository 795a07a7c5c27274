internal import CNNsightTorch

/// Calls a reduction over `dims` (nil: every dimension).
@inline(__always)
func reduce(_ dims: [Int]?, _ body: (UnsafePointer<Int64>?, Int, UnsafeMutablePointer<ctorch_tensor?>) -> ctorch_status)
    throws(TorchError) -> Tensor
{
    guard let dims else { return try produce { body(nil, 0, $0) } }
    let raw = dims.map { Int64($0) }
    return try raw.withUnsafeBufferPointer { buffer throws(TorchError) in
        // An empty list still means "these dimensions" (none), so pass a non-null pointer.
        try withUnsafePointer(to: Int64(0)) { empty throws(TorchError) in
            try produce { body(buffer.baseAddress ?? empty, buffer.count, $0) }
        }
    }
}

extension Tensor {
    /// Python: `x.sum(dim=, keepdim=, dtype=)`; `dim: nil` sums everything.
    public func sum(dim: [Int]? = nil, keepDim: Bool = false, dtype: DType? = nil) throws(TorchError) -> Tensor {
        let type = dtype?.raw ?? CTORCH_DTYPE_UNKNOWN
        return try reduce(dim) { ctorch_sum(handle, $0, $1, keepDim, type, $2) }
    }
    public func sum(dim: Int, keepDim: Bool = false) throws(TorchError) -> Tensor { try sum(dim: [dim], keepDim: keepDim) }

    /// Python: `x.mean(dim=, keepdim=)`.
    public func mean(dim: [Int]? = nil, keepDim: Bool = false) throws(TorchError) -> Tensor {
        try reduce(dim) { ctorch_mean(handle, $0, $1, keepDim, $2) }
    }
    public func mean(dim: Int, keepDim: Bool = false) throws(TorchError) -> Tensor { try mean(dim: [dim], keepDim: keepDim) }

    /// Python: `x.prod(dim=, keepdim=)`.
    public func prod(dim: Int? = nil, keepDim: Bool = false) throws(TorchError) -> Tensor {
        try produce { ctorch_prod(handle, dim != nil, Int64(dim ?? 0), keepDim, $0) }
    }

    /// Python: `x.var(dim=, correction=, keepdim=)` (unbiased by default, as PyTorch).
    public func variance(dim: [Int]? = nil, correction: Double = 1, keepDim: Bool = false) throws(TorchError) -> Tensor {
        try reduce(dim) { ctorch_var(handle, $0, $1, correction, keepDim, $2) }
    }

    /// Python: `x.std(dim=, correction=, keepdim=)`.
    public func std(dim: [Int]? = nil, correction: Double = 1, keepDim: Bool = false) throws(TorchError) -> Tensor {
        try reduce(dim) { ctorch_std(handle, $0, $1, correction, keepDim, $2) }
    }

    /// Python: `torch.logsumexp(x, dim, keepdim)`.
    public func logsumexp(dim: [Int]? = nil, keepDim: Bool = false) throws(TorchError) -> Tensor {
        try reduce(dim) { ctorch_logsumexp(handle, $0, $1, keepDim, $2) }
    }
    public func logsumexp(dim: Int, keepDim: Bool = false) throws(TorchError) -> Tensor { try logsumexp(dim: [dim], keepDim: keepDim) }

    /// Python: `torch.linalg.vector_norm(x, ord=p, dim=, keepdim=)` (`x.norm(p)`).
    public func norm(_ p: Double = 2, dim: [Int]? = nil, keepDim: Bool = false) throws(TorchError) -> Tensor {
        try reduce(dim) { ctorch_norm(handle, p, $0, $1, keepDim, $2) }
    }

    /// Python: `x.amax(dim=, keepdim=)` / `x.max()` over everything.
    public func max(dim: [Int]? = nil, keepDim: Bool = false) throws(TorchError) -> Tensor {
        try reduce(dim) { ctorch_amax(handle, $0, $1, keepDim, $2) }
    }
    /// Python: `x.amin(dim=, keepdim=)` / `x.min()`.
    public func min(dim: [Int]? = nil, keepDim: Bool = false) throws(TorchError) -> Tensor {
        try reduce(dim) { ctorch_amin(handle, $0, $1, keepDim, $2) }
    }

    /// Python: `values, indices = x.max(dim, keepdim)`.
    public func max(dim: Int, keepDim: Bool = false) throws(TorchError) -> (values: Tensor, indices: Tensor) {
        let (values, indices) = try producePair { ctorch_max_dim(handle, Int64(dim), keepDim, $0, $1) }
        return (values, indices)
    }
    /// Python: `values, indices = x.min(dim, keepdim)`.
    public func min(dim: Int, keepDim: Bool = false) throws(TorchError) -> (values: Tensor, indices: Tensor) {
        let (values, indices) = try producePair { ctorch_min_dim(handle, Int64(dim), keepDim, $0, $1) }
        return (values, indices)
    }

    /// Python: `x.argmax(dim=, keepdim=)`; `dim: nil` over the flattened tensor.
    public func argmax(dim: Int? = nil, keepDim: Bool = false) throws(TorchError) -> Tensor {
        try produce { ctorch_argmax(handle, dim != nil, Int64(dim ?? 0), keepDim, $0) }
    }
    /// Python: `x.argmin(dim=, keepdim=)`.
    public func argmin(dim: Int? = nil, keepDim: Bool = false) throws(TorchError) -> Tensor {
        try produce { ctorch_argmin(handle, dim != nil, Int64(dim ?? 0), keepDim, $0) }
    }

    /// Python: `x.all()`.
    public func all() throws(TorchError) -> Tensor { try produce { ctorch_all(handle, $0) } }
    /// Python: `x.any()`.
    public func any() throws(TorchError) -> Tensor { try produce { ctorch_any(handle, $0) } }

    /// Python: `x.softmax(dim)`.
    public func softmax(dim: Int) throws(TorchError) -> Tensor { try produce { ctorch_softmax(handle, Int64(dim), $0) } }
    /// Python: `x.log_softmax(dim)`.
    public func logSoftmax(dim: Int) throws(TorchError) -> Tensor { try produce { ctorch_log_softmax(handle, Int64(dim), $0) } }
    /// Python: `x.cumsum(dim)`.
    public func cumsum(dim: Int) throws(TorchError) -> Tensor { try produce { ctorch_cumsum(handle, Int64(dim), $0) } }
}
