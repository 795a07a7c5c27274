import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be mapped.
public struct MappedFileError: Error, Sendable, Equatable {
    /// What the system said (`No such file or directory`, `not a regular file`, …).
    public let reason: String
}

/// The bytes of one checkpoint file (safetensors, GGUF), memory-mapped from disk (or copied from
/// memory).
///
/// Lifetime: the mapping lives exactly as long as this object. The file objects and every tensor
/// view over it hold a strong reference to it, so a pointer obtained from a view stays valid
/// while that view (or the file object) is alive; the mapping is unmapped in `deinit`. The file
/// on disk is never written.
///
/// `@unchecked Sendable`, earned by immutability: every stored property is a `let` set in `init`
/// (the compiler cannot check only because `UnsafeRawPointer` is not `Sendable`), and this object
/// never writes the bytes. A tensor that views the mapping and is written in place (copy-on-write
/// pages, never the file) follows the tensor's own rule: one thread at a time.
public final class MappedFile: @unchecked Sendable {
    /// Start of the bytes; nil only when `count` is 0.
    public let base: UnsafeRawPointer?
    /// Number of bytes.
    public let count: Int
    private let release: Release

    /// Whether the bytes are a mapping of a file (not a copy held in memory).
    public var isMapped: Bool {
        if case .unmap = release { return true }
        return false
    }

    private enum Release {
        case unmap
        case free
        case none
    }

    /// Maps the file at `url` into memory.
    public init(mapping url: URL) throws(MappedFileError) {
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else {
            throw MappedFileError(reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw MappedFileError(reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw MappedFileError(reason: "not a regular file")
        }
        let size = Int(info.st_size)
        if size == 0 {
            base = nil
            count = 0
            release = .none
            return
        }
        // MAP_PRIVATE: pages come straight from the page cache, no copy is made. Writable, so that a
        // tensor viewing the mapping can be written in place (copy-on-write, never to the file).
        guard let mapped = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw MappedFileError(reason: "mmap failed: " + String(cString: strerror(errno)))
        }
        base = UnsafeRawPointer(mapped)
        count = size
        release = .unmap
    }

    /// Copies `data` into storage owned by this object (for bytes that are not in a file).
    public init(copying data: Data) {
        count = data.count
        if data.isEmpty {
            base = nil
            release = .none
            return
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: data.count, alignment: 64)
        data.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        base = UnsafeRawPointer(buffer)
        release = .free
    }

    deinit {
        guard let base else { return }
        switch release {
        case .unmap: munmap(UnsafeMutableRawPointer(mutating: base), count)
        case .free: UnsafeMutableRawPointer(mutating: base).deallocate()
        case .none: break
        }
    }

    /// The bytes in `offset ..< offset + length` as `Data` without copying; the `Data` keeps the
    /// mapping alive. Do not mutate it: it aliases the mapping. The caller has checked the bounds.
    public func data(offset: Int, length: Int) -> Data {
        let bytes = slice(offset: offset, length: length)
        guard let base = bytes.baseAddress, bytes.count > 0 else { return Data() }
        return Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count,
                    deallocator: .custom { _, _ in withExtendedLifetime(self) {} })
    }

    /// The bytes in `offset ..< offset + length`; the caller has checked the bounds.
    public func slice(offset: Int, length: Int) -> UnsafeRawBufferPointer {
        precondition(offset >= 0 && length >= 0 && offset <= count && length <= count - offset)
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + offset, count: length)
    }
}
