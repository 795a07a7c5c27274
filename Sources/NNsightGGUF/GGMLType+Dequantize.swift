extension GGMLType {
    /// Dequantizes packed blocks of this type that did not come from a `GGUFFile` (for example
    /// bytes read elsewhere, or a benchmark's buffer) into `elementCount` Float32 values,
    /// bit-exact with gguf-py's `gguf.quants.dequantize`.
    ///
    /// ```swift
    /// let values = try GGMLType.q4_K.dequantize(blockBytes, elementCount: 256)
    /// ```
    ///
    /// Throws `unsupportedTensorType` for a type that is not `isDequantizable`, and
    /// `invalidArgument` when `elementCount` is not a whole number of blocks or `bytes` does not
    /// hold exactly that many blocks.
    public func dequantize(_ bytes: UnsafeRawBufferPointer, elementCount: Int) throws(GGUFError) -> [Float] {
        guard isDequantizable else {
            throw GGUFError(.unsupportedTensorType(tensor: "(raw bytes)", type: "\(self)", operation: "dequantize"))
        }
        guard elementCount >= 0, elementCount % blockSize == 0 else {
            throw GGUFError(.invalidArgument(
                "\(elementCount) elements are not a whole number of \(self) blocks of \(blockSize)"))
        }
        let expected = elementCount / blockSize * blockByteCount
        guard bytes.count == expected else {
            throw GGUFError(.invalidArgument(
                "\(bytes.count) bytes given for \(elementCount) \(self) elements, which take \(expected) bytes"))
        }
        guard elementCount > 0 else { return [] }
        return [Float](unsafeUninitializedCapacity: elementCount) { buffer, initialized in
            GGMLDequantizer.dequantize(self, from: bytes, into: buffer.baseAddress!, count: elementCount)
            initialized = elementCount
        }
    }
}
