/// One entry of a GGUF file's tensor table.
///
/// GGUF lists dimensions fastest-varying first (ggml's `ne[0]`, `ne[1]`, …): a Linear weight
/// with 576 inputs and 192 outputs has `dimensions == [576, 192]`. `shape` is the same in
/// row-major order, as PyTorch and safetensors write it: `[192, 576]`.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// The tensor's name (`blk.0.attn_q.weight`).
    public let name: String
    /// Dimensions in GGUF order, fastest-varying first.
    public let dimensions: [Int]
    /// The storage type.
    public let type: GGMLType
    /// Offset of the tensor's bytes from the start of the data section.
    public let offset: Int
    /// Number of elements (the product of the dimensions).
    public let elementCount: Int
    /// Number of bytes the tensor occupies.
    public let byteCount: Int

    /// Dimensions in row-major order, slowest-varying first (PyTorch's `shape`).
    public var shape: [Int] { dimensions.reversed() }
}

extension ByteCursor {
    /// The most dimensions a ggml tensor can have (`GGML_MAX_DIMS`).
    static let maximumTensorDimensions = 4

    /// Reads one tensor table entry and validates its shape; bounds against the data section are
    /// checked once the data section's start is known.
    mutating func readTensorInfo(index: Int) throws(GGUFError.Reason) -> GGUFTensorInfo {
        let name = try readString("name of tensor #\(index)")
        let dimsOffset = offset
        let dimCount = try read(UInt32.self, "dimension count of tensor '\(name)'")
        guard dimCount <= UInt32(Self.maximumTensorDimensions) else {
            throw .absurdCount(what: "dimension (tensor '\(name)')", count: UInt64(dimCount), offset: dimsOffset)
        }
        var raw: [UInt64] = []
        for axis in 0 ..< Int(dimCount) {
            raw.append(try read(UInt64.self, "dimension \(axis) of tensor '\(name)'"))
        }
        let typeTag = try read(UInt32.self, "type of tensor '\(name)'")
        guard let type = GGMLType(rawValue: typeTag) else { throw .unknownTensorType(typeTag, tensor: name) }
        let dataOffset = try read(UInt64.self, "data offset of tensor '\(name)'")

        // ggml keeps dimensions as int64_t; the element and byte counts must fit an Int.
        var elements = 1
        for d in raw {
            guard d <= UInt64(Int64.max), case let (product, overflow) = elements.multipliedReportingOverflow(by: Int(d)),
                  !overflow else {
                throw .invalidTensorShape(tensor: name, dimensions: raw, why: "element count overflows")
            }
            elements = product
        }
        if let first = raw.first, first % UInt64(type.blockSize) != 0 {
            throw .invalidTensorShape(
                tensor: name, dimensions: raw,
                why: "first dimension is not a multiple of the \(type) block size \(type.blockSize)")
        }
        let (bytes, overflow) = (elements / type.blockSize).multipliedReportingOverflow(by: type.blockByteCount)
        guard !overflow, dataOffset <= UInt64(Int.max) else {
            throw .invalidTensorShape(tensor: name, dimensions: raw, why: "byte size overflows")
        }
        return GGUFTensorInfo(
            name: name, dimensions: raw.map { Int($0) }, type: type, offset: Int(dataOffset),
            elementCount: elements, byteCount: bytes)
    }
}
