import Foundation

/// Byte-pair encoding (`tokenizers.models.BPE`): each word starts as single characters (or
/// bytes, with byte fallback) and the lowest-ranked adjacent pair is merged until none is left.
///
/// Merging uses a min-heap over a linked list of symbols (rank, then leftmost position, as
/// `tokenizers` does), so a word of n characters costs O(n log n); words already seen come
/// from a cache.
///
/// Checked `Sendable`: every property is an immutable value set in `init`, and the one mutable
/// part, the word cache, is behind a lock (``WordCache``). One model may encode on many threads.
final class BPEModel: Sendable {
    let vocab: [String: Int]
    let idToToken: [Int: String]
    let unkId: Int?
    let fuseUnk: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool
    let continuingSubwordPrefix: String?
    let endOfWordSuffix: String?

    /// (left id << 32 | right id) → (rank << 32 | merged id).
    private let merges: [UInt64: UInt64]
    /// Ids of one-character tokens, by scalar value, for characters below `smallLimit`; -1 if none.
    private let smallScalarIds: [Int32]
    private let largeScalarIds: [UInt32: Int32]
    private static let smallLimit = 0x3000
    /// `<0x00>`…`<0xFF>`, when byte fallback is on; -1 if missing.
    private let byteIds: [Int32]

    private let cache = WordCache()

    init(
        vocab: [String: Int], merges: [(String, String)], unkToken: String?, fuseUnk: Bool, byteFallback: Bool,
        ignoreMerges: Bool, continuingSubwordPrefix: String?, endOfWordSuffix: String?, path: String
    ) throws(TokenizerError) {
        self.vocab = vocab
        var reverse: [Int: String] = [:]
        reverse.reserveCapacity(vocab.count)
        for (token, id) in vocab { reverse[id] = token }
        self.idToToken = reverse
        if let unkToken {
            guard let id = vocab[unkToken] else {
                throw .malformed(path: path + ".unk_token", reason: "unknown token \"\(unkToken)\" is not in the vocabulary")
            }
            unkId = id
        } else {
            unkId = nil
        }
        self.fuseUnk = fuseUnk
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
        self.continuingSubwordPrefix = continuingSubwordPrefix?.isEmpty == true ? nil : continuingSubwordPrefix
        self.endOfWordSuffix = endOfWordSuffix?.isEmpty == true ? nil : endOfWordSuffix

        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(merges.count)
        let prefixLength = self.continuingSubwordPrefix?.count ?? 0
        for (rank, (left, right)) in merges.enumerated() {
            guard let a = vocab[left] else {
                throw .malformed(path: path + ".merges[\(rank)]", reason: "merge token \"\(left)\" is not in the vocabulary")
            }
            guard let b = vocab[right] else {
                throw .malformed(path: path + ".merges[\(rank)]", reason: "merge token \"\(right)\" is not in the vocabulary")
            }
            let merged = left + (prefixLength > 0 && right.hasPrefix(self.continuingSubwordPrefix!) ? String(right.dropFirst(prefixLength)) : right)
            guard let id = vocab[merged] else {
                throw .malformed(path: path + ".merges[\(rank)]", reason: "merged token \"\(merged)\" is not in the vocabulary")
            }
            let key = UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))
            if table[key] == nil { table[key] = UInt64(rank) << 32 | UInt64(UInt32(id)) }
        }
        self.merges = table

        var small = [Int32](repeating: -1, count: Self.smallLimit)
        var large: [UInt32: Int32] = [:]
        for (token, id) in vocab {
            var iterator = token.unicodeScalars.makeIterator()
            guard let scalar = iterator.next(), iterator.next() == nil else { continue }
            if scalar.value < Self.smallLimit { small[Int(scalar.value)] = Int32(id) } else { large[scalar.value] = Int32(id) }
        }
        smallScalarIds = small
        largeScalarIds = large
        var bytes = [Int32](repeating: -1, count: 256)
        if byteFallback {
            for byte in 0..<256 { bytes[byte] = vocab[Self.byteTokenName(UInt8(byte))].map(Int32.init) ?? -1 }
        }
        byteIds = bytes
    }

    /// `<0x41>`: the byte-fallback token for a byte.
    static func byteTokenName(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
    }

    func tokenToId(_ token: String) -> Int? { vocab[token] }
    func idToTokenString(_ id: Int) -> String? { idToToken[id] }

    /// Appends the ids of one pre-tokenized word.
    func encode(_ word: ArraySlice<Unicode.Scalar>, into ids: inout [Int]) {
        if word.isEmpty { return }
        var key = String.UnicodeScalarView()
        key.append(contentsOf: word)
        let string = String(key)
        if ignoreMerges, let id = vocab[string] {
            ids.append(id)
            return
        }
        if let hit = cache.get(string) {
            for id in hit { ids.append(Int(id)) }
            return
        }
        let result = mergeWord(word, string)
        cache.set(string, result)
        for id in result { ids.append(Int(id)) }
    }

    private struct Symbol {
        var id: Int32
        var prev: Int32
        var next: Int32
        var alive: Bool
    }

    @inline(__always)
    private func singleScalarId(_ scalar: Unicode.Scalar) -> Int32 {
        let value = scalar.value
        if value < Self.smallLimit { return smallScalarIds[Int(value)] }
        return largeScalarIds[value] ?? -1
    }

    /// The initial symbols of a word: characters, byte fallback, or (fused) unknown tokens.
    private func initialSymbols(_ word: ArraySlice<Unicode.Scalar>) -> [Int32] {
        var ids: [Int32] = []
        ids.reserveCapacity(word.count)
        var pendingUnk = false
        let hasAffixes = continuingSubwordPrefix != nil || endOfWordSuffix != nil
        let count = word.count
        for (offset, scalar) in word.enumerated() {
            var id: Int32
            if hasAffixes {
                var piece = String(scalar)
                if offset > 0, let prefix = continuingSubwordPrefix { piece = prefix + piece }
                if offset == count - 1, let suffix = endOfWordSuffix { piece += suffix }
                id = vocab[piece].map(Int32.init) ?? -1
            } else {
                id = singleScalarId(scalar)
            }
            if id >= 0 {
                if pendingUnk, let unkId { ids.append(Int32(unkId)) }
                pendingUnk = false
                ids.append(id)
                continue
            }
            if byteFallback {
                let bytes = Array(String(scalar).utf8)
                if bytes.allSatisfy({ byteIds[Int($0)] >= 0 }) {
                    if pendingUnk, let unkId { ids.append(Int32(unkId)) }
                    pendingUnk = false
                    for byte in bytes { ids.append(byteIds[Int(byte)]) }
                    continue
                }
            }
            if let unkId {
                if pendingUnk, !fuseUnk { ids.append(Int32(unkId)) }
                pendingUnk = true
            }
            // Without an unknown token the character is dropped, as in `tokenizers`.
        }
        if pendingUnk, let unkId { ids.append(Int32(unkId)) }
        return ids
    }

    @inline(__always)
    private func merge(_ a: Int32, _ b: Int32) -> UInt64? {
        merges[UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))]
    }

    private func mergeWord(_ word: ArraySlice<Unicode.Scalar>, _ string: String) -> [Int32] {
        let initial = initialSymbols(word)
        if initial.count < 2 { return initial }
        var symbols = [Symbol]()
        symbols.reserveCapacity(initial.count)
        for (index, id) in initial.enumerated() {
            symbols.append(Symbol(id: id, prev: Int32(index - 1), next: index + 1 < initial.count ? Int32(index + 1) : -1, alive: true))
        }
        // Heap entries: rank << 32 | position; smallest first (lowest rank, then leftmost).
        var heap = MinHeap()
        for index in 0..<(symbols.count - 1) {
            if let m = merge(symbols[index].id, symbols[index + 1].id) {
                heap.push(m & 0xFFFF_FFFF_0000_0000 | UInt64(index))
            }
        }
        while let top = heap.pop() {
            let position = Int(top & 0xFFFF_FFFF)
            let rank = top >> 32
            guard symbols[position].alive, symbols[position].next >= 0 else { continue }
            let nextPosition = Int(symbols[position].next)
            guard let m = merge(symbols[position].id, symbols[nextPosition].id), m >> 32 == rank else { continue }
            let newId = Int32(truncatingIfNeeded: m & 0xFFFF_FFFF)
            symbols[position].id = newId
            symbols[nextPosition].alive = false
            let after = symbols[nextPosition].next
            symbols[position].next = after
            if after >= 0 { symbols[Int(after)].prev = Int32(position) }
            let before = symbols[position].prev
            if before >= 0, let pm = merge(symbols[Int(before)].id, newId) {
                heap.push(pm & 0xFFFF_FFFF_0000_0000 | UInt64(before))
            }
            if after >= 0, let nm = merge(newId, symbols[Int(after)].id) {
                heap.push(nm & 0xFFFF_FFFF_0000_0000 | UInt64(position))
            }
        }
        var result: [Int32] = []
        var index: Int32 = 0
        while index >= 0 {
            result.append(symbols[Int(index)].id)
            index = symbols[Int(index)].next
        }
        return result
    }
}

/// A binary min-heap of packed `UInt64` keys.
struct MinHeap {
    private var items: [UInt64] = []

    mutating func push(_ value: UInt64) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if items[parent] <= items[child] { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> UInt64? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            let count = items.count
            while true {
                let left = 2 * parent + 1
                if left >= count { break }
                let right = left + 1
                let smaller = right < count && items[right] < items[left] ? right : left
                if items[parent] <= items[smaller] { break }
                items.swapAt(parent, smaller)
                parent = smaller
            }
        }
        return first
    }
}

/// A bounded, thread-safe cache of merged words, shared by every thread that encodes with the
/// model. `Sendable` earned by its lock: `table` is read and written only inside `lock`.
final class WordCache: Sendable {
    private let lock = NSLock()
    /// Guarded by `lock`.
    nonisolated(unsafe) private var table: [String: [Int32]] = [:]
    private let capacity = 100_000

    func get(_ key: String) -> [Int32]? {
        lock.lock()
        defer { lock.unlock() }
        return table[key]
    }

    func set(_ key: String, _ value: [Int32]) {
        lock.lock()
        defer { lock.unlock() }
        if table.count >= capacity { return }
        table[key] = value
    }
}
