import Foundation

/// A zero-copy view of one tensor's bytes inside a mapped GGUF file.
///
/// Lifetime: the view holds the file's `GGUFStorage`, so the mapping outlives the view even if
/// the `GGUFFile` is released. `bytes` (and any pointer derived from it) is valid only while
/// the view, or another holder of the same storage, is alive; `data` keeps the storage alive
/// itself. The bytes are read-only.
public struct GGUFTensorData: Sendable {
    /// The tensor's table entry.
    public let info: GGUFTensorInfo
    /// The storage that owns the bytes.
    public let storage: GGUFStorage
    /// Absolute offset of the tensor's bytes in the file.
    public let absoluteOffset: Int

    init(info: GGUFTensorInfo, storage: GGUFStorage, absoluteOffset: Int) {
        self.info = info
        self.storage = storage
        self.absoluteOffset = absoluteOffset
    }

    /// The raw stored bytes (packed blocks for quantized types). Valid while `storage` is alive.
    public var bytes: UnsafeRawBufferPointer {
        storage.slice(offset: absoluteOffset, length: info.byteCount)
    }

    /// Calls `body` with the raw stored bytes; the pointer must not escape `body`.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try withExtendedLifetime(storage) { () throws(E) -> R in try body(bytes) }
    }

    /// The raw bytes as `Data` without copying; the `Data` keeps the mapping alive.
    /// Do not mutate it: it aliases the mapping.
    public var data: Data { storage.data(offset: absoluteOffset, length: info.byteCount) }

    /// The raw bytes of an F32, F16 or BF16 tensor, for callers that want to keep the stored
    /// precision (for example to build an f16 tensor without widening). Throws for other types.
    public func rawFloatBytes() throws(GGUFError) -> UnsafeRawBufferPointer {
        switch info.type {
        case .f32, .f16, .bf16: return bytes
        default:
            throw GGUFError(.unsupportedTensorType(tensor: info.name, type: "\(info.type)", operation: "view raw floats of"))
        }
    }

    /// Dequantizes into a new row-major Float32 array of `info.elementCount` values.
    public func dequantized() throws(GGUFError) -> [Float] {
        try checkDequantizable()
        let count = info.elementCount
        guard count > 0 else { return [] }
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            guard let base = buffer.baseAddress else { return }
            withExtendedLifetime(storage) {
                GGMLDequantizer.dequantize(info.type, from: bytes, into: base, count: count)
            }
            initialized = count
        }
    }

    /// Dequantizes into `destination`, which must hold exactly `info.elementCount` values
    /// (for example a freshly allocated tensor's storage), avoiding an intermediate array.
    public func dequantize(into destination: UnsafeMutableBufferPointer<Float>) throws(GGUFError) {
        try checkDequantizable()
        guard destination.count == info.elementCount else {
            throw GGUFError(.invalidArgument(
                "destination holds \(destination.count) floats, tensor '\(info.name)' has \(info.elementCount)"))
        }
        guard let base = destination.baseAddress else { return }
        withExtendedLifetime(storage) {
            GGMLDequantizer.dequantize(info.type, from: bytes, into: base, count: info.elementCount)
        }
    }

    /// Dequantizes the rows `rows` of the tensor seen as a row-major matrix of rows of
    /// `dimensions[0]` values (its ``GGUFTensorInfo/shape`` with the leading dimensions folded
    /// into rows) into `destination`, which must hold exactly `rows.count × dimensions[0]` values.
    /// The values are those of the same slice of ``dequantize(into:)``; a caller that lays the
    /// rows out itself (a transposed copy) needs no float32 copy of the whole tensor. Throws when
    /// a row is not whole blocks of the tensor's type, or `rows` or `destination` does not fit.
    public func dequantize(rows: Range<Int>, into destination: UnsafeMutableBufferPointer<Float>) throws(GGUFError) {
        try checkDequantizable()
        let width = info.dimensions.first ?? 1
        guard width > 0, width % info.type.blockSize == 0 else {
            throw GGUFError(.invalidArgument(
                "rows of tensor '\(info.name)' (\(width) values) are not whole \(info.type) blocks of \(info.type.blockSize)"))
        }
        let rowCount = info.elementCount / width
        guard rows.lowerBound >= 0, rows.upperBound <= rowCount else {
            throw GGUFError(.invalidArgument("rows \(rows) of tensor '\(info.name)', which has \(rowCount)"))
        }
        guard destination.count == rows.count * width else {
            throw GGUFError(.invalidArgument(
                "destination holds \(destination.count) floats, \(rows.count) rows of tensor '\(info.name)' have \(rows.count * width)"))
        }
        guard let base = destination.baseAddress, !rows.isEmpty else { return }
        let rowBytes = width / info.type.blockSize * info.type.blockByteCount
        withExtendedLifetime(storage) {
            let source = storage.slice(offset: absoluteOffset + rows.lowerBound * rowBytes, length: rows.count * rowBytes)
            GGMLDequantizer.dequantize(info.type, from: source, into: base, count: rows.count * width)
        }
    }

    private func checkDequantizable() throws(GGUFError) {
        guard info.type.isDequantizable else {
            throw GGUFError(.unsupportedTensorType(tensor: info.name, type: "\(info.type)", operation: "dequantize"))
        }
    }
}
