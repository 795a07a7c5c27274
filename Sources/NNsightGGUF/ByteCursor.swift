/// A little-endian reader over untrusted bytes that checks the bounds before every read.
///
/// Errors carry the absolute offset and a description of what was being read; the caller
/// attaches the file name.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    /// Bytes left after the cursor.
    var remaining: Int { bytes.count - offset }

    /// Throws `truncated` unless `needed` more bytes are available.
    func require(_ needed: Int, _ what: @autoclosure () -> String) throws(GGUFError.Reason) {
        guard needed >= 0, needed <= remaining else {
            throw .truncated(what: what(), offset: offset, needed: needed, available: max(remaining, 0))
        }
    }

    mutating func read<T: FixedWidthInteger>(
        _ type: T.Type, _ what: @autoclosure () -> String
    ) throws(GGUFError.Reason) -> T {
        let size = MemoryLayout<T>.size
        try require(size, what())
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += size
        return value
    }

    mutating func readFloat(_ what: @autoclosure () -> String) throws(GGUFError.Reason) -> Float {
        Float(bitPattern: try read(UInt32.self, what()))
    }

    mutating func readDouble(_ what: @autoclosure () -> String) throws(GGUFError.Reason) -> Double {
        Double(bitPattern: try read(UInt64.self, what()))
    }

    /// A GGUF string: a UInt64 byte length, then that many UTF-8 bytes (no terminator).
    /// Invalid UTF-8 is repaired with U+FFFD rather than rejected.
    mutating func readString(_ what: @autoclosure () -> String) throws(GGUFError.Reason) -> String {
        let start = offset
        let length = try read(UInt64.self, what())
        guard length <= UInt64(remaining) else {
            throw .stringPastEnd(what: what(), offset: start, length: length, available: remaining)
        }
        let count = Int(length)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + count])
        offset += count
        return String(decoding: slice, as: UTF8.self)
    }

    /// Moves the cursor forward to the next multiple of `alignment`, within the bytes.
    mutating func align(to alignment: Int) {
        let padded = (offset + alignment - 1) / alignment * alignment
        offset = min(padded, bytes.count)
    }
}
