import Foundation

/// A zero-copy view of one tensor inside a mapped safetensors file.
///
/// Lifetime: the view holds the file's `SafeTensorsStorage`, so the mapping stays alive as long
/// as any view (or the `SafeTensorsFile`) does, even after the file object is released.
/// `bytes`, and any pointer derived from it, is valid only while the view or another holder of
/// the same storage is alive; `data` keeps the storage alive by itself. Loading a checkpoint
/// through views holds one copy of the weights: the page cache's.
public struct SafeTensor: Sendable {
    /// The header entry: name, dtype, shape, byte range.
    public let info: SafeTensorInfo
    /// The storage that owns the bytes.
    public let storage: SafeTensorsStorage
    /// Absolute offset of the tensor's bytes in the file.
    public let absoluteOffset: Int

    init(info: SafeTensorInfo, storage: SafeTensorsStorage, absoluteOffset: Int) {
        self.info = info
        self.storage = storage
        self.absoluteOffset = absoluteOffset
    }

    /// The tensor's name.
    public var name: String { info.name }
    /// The element type.
    public var dtype: SafeTensorsDType { info.dtype }
    /// The row-major shape.
    public var shape: [Int] { info.shape }
    /// The number of elements.
    public var elementCount: Int { info.elementCount }

    /// The raw little-endian element bytes. Valid while `storage` is alive.
    public var bytes: UnsafeRawBufferPointer {
        storage.slice(offset: absoluteOffset, length: info.byteCount)
    }

    /// Calls `body` with the raw bytes; the pointer must not escape `body`.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try withExtendedLifetime(storage) { () throws(E) -> R in try body(bytes) }
    }

    /// The raw bytes as `Data` without copying; the `Data` keeps the mapping alive.
    /// Do not mutate it: it aliases the mapping.
    public var data: Data { storage.data(offset: absoluteOffset, length: info.byteCount) }

    /// Copies the elements out as `[T]`; `T` must be exactly the tensor's dtype
    /// (`Float` for F32, `Int64` for I64, `Bool` for BOOL, …).
    public func scalars<T: SafeTensorsScalar>(as type: T.Type = T.self) throws(SafeTensorsError) -> [T] {
        guard T.safeTensorsDType == dtype else {
            throw SafeTensorsError(.dtypeMismatch(tensor: name, dtype: dtype.rawValue, requested: "\(T.self)"))
        }
        return withUnsafeBytes { raw in
            if T.self == Bool.self {
                // Any nonzero byte is true; never reinterpret arbitrary bytes as Bool.
                return raw.map { $0 != 0 } as! [T]
            }
            return (0 ..< elementCount).map { raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.stride, as: T.self) }
        }
    }
}
