import Foundation
import NNsightMappedFile
import NNsightTorch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The memory-mapped checkpoint files of a load, and the pages of them the load is done with.
///
/// A weight the loader copies (packed for oneDNN, converted to another dtype, stacked with other
/// experts, dequantized from a GGUF block format) is read once from the mapping; the pages it read would stay resident, counted in the
/// process's RSS beside the copy, until the file is unmapped — which is never while any weight
/// still views the file. ``release(_:)`` drops them right after the copy is made
/// (`madvise(MADV_DONTNEED)`), so a load holds each weight once. The mapping itself stays: a tensor
/// that still views a dropped page (a neighbour sharing its edge page) reads it again from the file.
/// Only pages the loader has not written are dropped (the loader writes nothing into the mapping;
/// a user's in-place edit of a weight comes after the load).
final class MappedPages {
    /// Held, so that no region is unmapped (and its addresses reused) while pages may be released.
    private let mappings: [MappedFile]
    private let regions: [(start: UInt, end: UInt)]
    private let pageSize = UInt(max(sysconf(Int32(_SC_PAGESIZE)), 1))

    /// The files among `storages` that are mappings (copies held in memory are never released).
    init(_ storages: [MappedFile]) {
        var seen = Set<ObjectIdentifier>()
        mappings = storages.filter { seen.insert(ObjectIdentifier($0)).inserted && $0.isMapped && $0.base != nil }
        regions = mappings.compactMap { storage in
            storage.base.map { (UInt(bitPattern: $0), UInt(bitPattern: $0) + UInt(storage.count)) }
        }
    }

    /// Drops the pages under `tensor` from this process's resident memory when it views one of
    /// the mapped files (anything else is left alone).
    func release(_ tensor: Tensor) {
        guard tensor.device == .cpu, tensor.isContiguous,
              let (start, count) = try? tensor.withUnsafeMutableBytes({ (UInt(bitPattern: $0.baseAddress), $0.count) }),
              count > 0 else { return }
        release(start: start, count: count)
    }

    /// Drops the pages under `bytes` (a GGUF tensor's stored blocks) when they lie in one of the
    /// mapped files.
    func release(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        release(start: UInt(bitPattern: base), count: bytes.count)
    }

    private func release(start: UInt, count: Int) {
        let end = start + UInt(count)
        guard let region = regions.first(where: { $0.start <= start && end <= $0.end }) else { return }
        // Whole pages, widened to the page grid: the mapping starts on a page and holds them all.
        let first = max(start - start % pageSize, region.start - region.start % pageSize)
        let last = min((end + pageSize - 1) / pageSize * pageSize, (region.end + pageSize - 1) / pageSize * pageSize)
        guard last > first, let address = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(address, Int(last - first), Int32(MADV_DONTNEED))
    }
}
