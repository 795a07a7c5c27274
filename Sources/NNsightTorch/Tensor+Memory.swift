internal import CNNsightTorch

extension Tensor {
    /// Runs `body` on the elements' memory of a contiguous CPU tensor, for filling a tensor
    /// without an intermediate copy (a dequantized checkpoint tensor). Writes are seen by every
    /// holder of the storage. Python: `x.numpy()` on a contiguous tensor.
    public func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) throws -> R {
        guard device == .cpu, isContiguous else {
            throw TorchError(.value, "direct memory access needs a contiguous CPU tensor; this one is \(isContiguous ? "" : "non-contiguous and ")on \(device)")
        }
        let bytes = UnsafeMutableRawBufferPointer(
            start: UnsafeMutableRawPointer(mutating: ctorch_data_ptr(handle)), count: count * dtype.byteCount)
        return try withExtendedLifetime(self) { try body(bytes) }
    }
}
