import Foundation
import Synchronization
import Testing
import NNsightTokenizers

/// One tokenizer shared by several threads (a server encoding its clients' prompts): its word
/// cache is filled from all of them at once, and a regex split (`NSRegularExpression`) is matched
/// from all of them at once. Every thread must get Python's ids, the ids one thread alone gets.
struct ConcurrencyTests {
    /// Runs `body(thread)` on `threads` threads, started together, and returns what each returned,
    /// by thread.
    private func concurrently(threads: Int, _ body: @escaping @Sendable (Int) -> [[Int]]) -> [[[Int]]] {
        let results = ResultsByThread(threads)
        let group = DispatchGroup()
        let ready = Atomic<Int>(0)
        for thread in 0..<threads {
            group.enter()
            Thread {
                ready.add(1, ordering: .sequentiallyConsistent)
                while ready.load(ordering: .sequentiallyConsistent) < threads {}
                results.set(thread, body(thread))
                group.leave()
            }.start()
        }
        group.wait()
        return results.all
    }

    /// Each thread encodes every text, starting at a different place, so that the threads fill
    /// the cold cache with different words at the same time and then read what the others wrote.
    private func encodeFromFourThreads(_ tokenizer: Tokenizer, _ texts: [String]) -> [[[Int]]] {
        concurrently(threads: 4) { thread in
            let start = thread * texts.count / 4
            var ids = [[Int]](repeating: [], count: texts.count)
            for offset in 0..<texts.count {
                let index = (start + offset) % texts.count
                ids[index] = tokenizer.encode(texts[index]).ids
            }
            return ids
        }
    }

    /// GPT-2's byte-level BPE (scanned split, word cache) on the 2,022-text corpus.
    @Test func testOneByteLevelTokenizerEncodingFromFourThreadsGivesPythonsIds() throws {
        let expected = try Fixtures.expected("gpt2-bpe").ids
        let texts = Fixtures.corpus
        try #require(expected.count == texts.count)
        let serial = try Fixtures.tokenizer("gpt2-bpe")
        #expect(texts.map { serial.encode($0).ids } == expected)

        let shared = try Fixtures.tokenizer("gpt2-bpe")
        for (thread, ids) in encodeFromFourThreads(shared, texts).enumerated() {
            let wrong = (0..<texts.count).filter { ids[$0] != expected[$0] }
            #expect(wrong.isEmpty, "thread \(thread): \(wrong.count) texts differ, first \(wrong.first ?? -1)")
        }
    }

    /// Falcon's tokenizer splits digits with a regex no scanner knows (`[0-9][0-9][0-9]`), so
    /// `NSRegularExpression` matches from four threads at once.
    @Test func testOneRegexSplitTokenizerEncodingFromFourThreadsGivesPythonsIds() throws {
        struct Golden: Decodable { var ids: [[Int]] }
        let expected = try JSONDecoder().decode(Golden.self, from: Fixtures.data("falcon-gguf.gguf-expected.json")).ids
        let texts = try JSONDecoder().decode([String].self, from: Fixtures.data("gguf-corpus.json"))
        try #require(expected.count == texts.count)
        let serial = try Fixtures.tokenizer("falcon-gguf")
        #expect(texts.map { serial.encode($0).ids } == expected)

        let shared = try Fixtures.tokenizer("falcon-gguf")
        for (thread, ids) in encodeFromFourThreads(shared, texts).enumerated() {
            let wrong = (0..<texts.count).filter { ids[$0] != expected[$0] }
            #expect(wrong.isEmpty, "thread \(thread): \(wrong.count) texts differ, first \(wrong.first ?? -1)")
        }
    }
}

/// Each thread's result in its own slot. An `NSLock` guards the slots (`Synchronization.Mutex`'s
/// contended handoff is invisible to ThreadSanitizer on Linux).
private final class ResultsByThread: Sendable {
    private let lock = NSLock()
    /// Guarded by `lock`.
    nonisolated(unsafe) private var slots: [[[Int]]]

    init(_ threads: Int) { slots = Array(repeating: [], count: threads) }

    func set(_ thread: Int, _ ids: [[Int]]) { lock.withLock { slots[thread] = ids } }
    var all: [[[Int]]] { lock.withLock { slots } }
}
