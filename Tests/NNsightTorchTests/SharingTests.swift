import Foundation
import Synchronization
import Testing
@testable import NNsightTorch

/// The two NNsightTorch types that may be used from several threads at once, each behind a lock:
/// an error sink and a generator.
struct SharingTests {
    /// Runs `body(thread)` on `threads` threads, started together, and waits for all of them.
    func concurrently(threads: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        let ready = Atomic<Int>(0)
        for thread in 0..<threads {
            group.enter()
            Thread {
                ready.add(1, ordering: .sequentiallyConsistent)
                while ready.load(ordering: .sequentiallyConsistent) < threads {}
                body(thread)
                group.leave()
            }.start()
        }
        group.wait()
    }

    @Test func testErrorSinkKeepsEveryErrorRecordedFromSeveralThreads() {
        let sink = TorchErrorSink()
        concurrently(threads: 4) { thread in
            for i in 0..<5000 { sink.record(TorchError(.index, "thread \(thread) error \(i)")) }
        }
        let errors = sink.errors
        #expect(errors.count == 20000)
        for thread in 0..<4 {
            let mine = errors.filter { $0.message.hasPrefix("thread \(thread) ") }
            #expect(mine.map(\.message) == (0..<5000).map { "thread \(thread) error \($0)" })
        }
        sink.clear()
        #expect(sink.firstError == nil)
    }

    /// Draws shared between threads are the draws one thread would make, each exactly once.
    @Test func testGeneratorSharedBetweenThreadsDrawsTheSameSequence() throws {
        try Torch.setNumThreads(1)
        let alone = Generator(seed: 7)
        let sequential = try (0..<400).map { _ in try Tensor.rand([3], generator: alone).toArray(Float.self) }
        let shared = Generator(seed: 7)
        let draws = LockedRows()
        concurrently(threads: 4) { _ in
            for _ in 0..<100 {
                let row = (try? Tensor.rand([3], generator: shared).toArray(Float.self)) ?? []
                draws.append(row)
            }
        }
        let key = { (row: [Float]) in row.map { String($0) }.joined(separator: ",") }
        #expect(draws.all.map(key).sorted() == sequential.map(key).sorted())
    }
}

/// Rows appended from several threads. An `NSLock`, not a `Synchronization.Mutex`: this test
/// runs under ThreadSanitizer too, which does not model a contended `Mutex`'s futex handoff on
/// Linux.
private final class LockedRows: Sendable {
    private let lock = NSLock()
    /// Guarded by `lock`.
    nonisolated(unsafe) private var rows: [[Float]] = []

    func append(_ row: [Float]) { lock.withLock { rows.append(row) } }
    var all: [[Float]] { lock.withLock { rows } }
}
