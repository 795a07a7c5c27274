internal import CNNsightTorch

typealias SizesOp = (ctorch_tensor, UnsafePointer<Int64>?, Int, UnsafeMutablePointer<ctorch_tensor?>) -> ctorch_status

@inline(__always)
func sizesOp(_ op: SizesOp, _ a: Tensor, _ values: [Int]) throws(TorchError) -> Tensor {
    let raw = values.map { Int64($0) }
    return try raw.withUnsafeBufferPointer { buffer throws(TorchError) in
        try produce { op(a.handle, buffer.baseAddress, buffer.count, $0) }
    }
}

/// Calls a shim function that splits a tensor into pieces.
func pieces(
    _ body: (UnsafeMutablePointer<ctorch_tensor?>, Int, UnsafeMutablePointer<Int>) -> ctorch_status
) throws(TorchError) -> [Tensor] {
    var capacity = 16
    while true {
        var count = 0
        var handles = [ctorch_tensor?](repeating: nil, count: capacity)
        let status = handles.withUnsafeMutableBufferPointer { body($0.baseAddress!, capacity, &count) }
        if status == CTORCH_OK { return handles.prefix(count).map { Tensor(owning: $0!) } }
        guard count > capacity else { throw TorchError.last(status) }
        capacity = count
    }
}

/// Borrowed handles of `tensors` for one shim call.
func withHandles<R>(_ tensors: [Tensor], _ body: (UnsafeBufferPointer<ctorch_tensor>) throws(TorchError) -> R)
    throws(TorchError) -> R
{
    let handles: [ctorch_tensor] = tensors.map { $0.handle }
    return try withExtendedLifetime(tensors) { () throws(TorchError) in
        try handles.withUnsafeBufferPointer { buffer throws(TorchError) in try body(buffer) }
    }
}

extension Tensor {
    /// Python: `x.reshape(*shape)`; one dimension may be -1.
    public func reshape(_ shape: [Int]) throws(TorchError) -> Tensor { try sizesOp(ctorch_reshape, self, shape) }
    public func reshape(_ shape: Int...) throws(TorchError) -> Tensor { try reshape(shape) }
    /// Python: `x.view(*shape)`: a view sharing storage (fails where a copy would be needed).
    public func view(_ shape: [Int]) throws(TorchError) -> Tensor { try sizesOp(ctorch_view, self, shape) }
    public func view(_ shape: Int...) throws(TorchError) -> Tensor { try view(shape) }
    /// Python: `x.expand(*shape)`; -1 keeps a dimension.
    public func expand(_ shape: [Int]) throws(TorchError) -> Tensor { try sizesOp(ctorch_expand, self, shape) }
    public func expand(_ shape: Int...) throws(TorchError) -> Tensor { try expand(shape) }
    /// Python: `x.repeat(*counts)`.
    public func `repeat`(_ counts: [Int]) throws(TorchError) -> Tensor { try sizesOp(ctorch_repeat, self, counts) }
    public func `repeat`(_ counts: Int...) throws(TorchError) -> Tensor { try self.repeat(counts) }
    /// Python: `x.permute(*dims)`.
    public func permute(_ dims: [Int]) throws(TorchError) -> Tensor { try sizesOp(ctorch_permute, self, dims) }
    public func permute(_ dims: Int...) throws(TorchError) -> Tensor { try permute(dims) }

    /// Python: `x.transpose(d0, d1)`.
    public func transpose(_ dim0: Int, _ dim1: Int) throws(TorchError) -> Tensor {
        try produce { ctorch_transpose(handle, Int64(dim0), Int64(dim1), $0) }
    }
    /// Python: `x.T` for a 2-D tensor; reverses the dimensions in general (`x.permute(*reversed)`).
    public func t() throws(TorchError) -> Tensor { try permute(Array((0..<rank).reversed())) }
    /// Python: `x.flatten(start_dim, end_dim)`.
    public func flatten(startDim: Int = 0, endDim: Int = -1) throws(TorchError) -> Tensor {
        try produce { ctorch_flatten(handle, Int64(startDim), Int64(endDim), $0) }
    }
    /// Python: `x.squeeze(dim)`; `dim: nil` drops every dimension of size 1.
    public func squeeze(dim: Int? = nil) throws(TorchError) -> Tensor {
        try produce { ctorch_squeeze(handle, dim != nil, Int64(dim ?? 0), $0) }
    }
    /// Python: `x.unsqueeze(dim)`.
    public func unsqueeze(_ dim: Int) throws(TorchError) -> Tensor { try produce { ctorch_unsqueeze(handle, Int64(dim), $0) } }
    /// Python: `x.narrow(dim, start, length)`: a view.
    public func narrow(dim: Int, start: Int, length: Int) throws(TorchError) -> Tensor {
        try produce { ctorch_narrow(handle, Int64(dim), Int64(start), Int64(length), $0) }
    }
    /// Python: `x.select(dim, index)`: a view without that dimension.
    public func select(dim: Int, index: Int) throws(TorchError) -> Tensor {
        try produce { ctorch_select(handle, Int64(dim), Int64(index), $0) }
    }

    /// Python: `torch.cat(tensors, dim)`.
    public static func cat(_ tensors: [Tensor], dim: Int = 0) throws(TorchError) -> Tensor {
        try withHandles(tensors) { (buffer) throws(TorchError) in
            try produce { ctorch_cat(buffer.baseAddress, buffer.count, Int64(dim), $0) }
        }
    }
    /// Python: `torch.stack(tensors, dim)`.
    public static func stack(_ tensors: [Tensor], dim: Int = 0) throws(TorchError) -> Tensor {
        try withHandles(tensors) { (buffer) throws(TorchError) in
            try produce { ctorch_stack(buffer.baseAddress, buffer.count, Int64(dim), $0) }
        }
    }

    /// Python: `x.split(size, dim)`: views of `size` along `dim` (the last may be smaller).
    public func split(_ size: Int, dim: Int = 0) throws(TorchError) -> [Tensor] {
        try pieces { ctorch_split(handle, Int64(size), Int64(dim), $0, $1, $2) }
    }
    /// Python: `x.split([sizes], dim)`.
    public func split(sizes: [Int], dim: Int = 0) throws(TorchError) -> [Tensor] {
        let raw = sizes.map { Int64($0) }
        return try pieces { ctorch_split_sizes(handle, raw, raw.count, Int64(dim), $0, $1, $2) }
    }
    /// Python: `x.chunk(chunks, dim)`.
    public func chunk(_ chunks: Int, dim: Int = 0) throws(TorchError) -> [Tensor] {
        try pieces { ctorch_chunk(handle, Int64(chunks), Int64(dim), $0, $1, $2) }
    }

    /// Python: `x.gather(dim, index)`.
    public func gather(dim: Int, index: Tensor) throws(TorchError) -> Tensor {
        try produce { ctorch_gather(handle, Int64(dim), index.handle, $0) }
    }
    /// Python: `x.index_select(dim, index)`.
    public func indexSelect(dim: Int, index: Tensor) throws(TorchError) -> Tensor {
        try produce { ctorch_index_select(handle, Int64(dim), index.handle, $0) }
    }
    /// Python: `x.masked_fill(mask, value)`.
    public func maskedFill(_ mask: Tensor, _ value: some ScalarConvertible) throws(TorchError) -> Tensor {
        let number = Tensor.number(value.scalar)
        return try produce { ctorch_masked_fill(handle, mask.handle, number.handle, $0) }
    }
    /// Python: `values, indices = x.topk(k, dim, largest, sorted)`.
    public func topk(_ k: Int, dim: Int = -1, largest: Bool = true, sorted: Bool = true) throws(TorchError)
        -> (values: Tensor, indices: Tensor)
    {
        let (values, indices) = try producePair { ctorch_topk(handle, Int64(k), Int64(dim), largest, sorted, $0, $1) }
        return (values, indices)
    }
    /// Python: `values, indices = x.sort(dim, descending)`.
    public func sort(dim: Int = -1, descending: Bool = false) throws(TorchError) -> (values: Tensor, indices: Tensor) {
        let (values, indices) = try producePair { ctorch_sort(handle, Int64(dim), descending, $0, $1) }
        return (values, indices)
    }
    /// Python: `x.argsort(dim, descending)`.
    public func argsort(dim: Int = -1, descending: Bool = false) throws(TorchError) -> Tensor {
        try produce { ctorch_argsort(handle, Int64(dim), descending, $0) }
    }
    /// Python: `torch.multinomial(probs, n, replacement, generator=)`.
    public func multinomial(_ samples: Int, replacement: Bool = false, generator: Generator? = nil) throws(TorchError) -> Tensor {
        try Generator.drawing(from: generator) { gen throws(TorchError) in
            try produce { ctorch_multinomial(handle, Int64(samples), replacement, gen, $0) }
        }
    }
    /// Python: `x.tril(diagonal)`.
    public func tril(_ diagonal: Int = 0) throws(TorchError) -> Tensor { try produce { ctorch_tril(handle, Int64(diagonal), $0) } }
    /// Python: `x.triu(diagonal)`.
    public func triu(_ diagonal: Int = 0) throws(TorchError) -> Tensor { try produce { ctorch_triu(handle, Int64(diagonal), $0) } }
}
