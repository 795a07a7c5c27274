import Foundation
import NNsight
import Synchronization
import Testing
@testable import NNsightWorkbench

/// The workbench's model thread: jobs from several pages never overlap, and a page that goes
/// away stops its job at the next check.
@Suite struct ModelWorkerTests {
    @Test func jobsRunOneAtATimeAndACancelledJobStops() async throws {
        let worker = ModelWorker(model: try TinyModel.load())
        let log = Mutex<[String]>([])
        let first = worker.stream { model, emit in
            log.withLock { $0.append("first begins") }
            _ = try model.logitLens("Hello")
            log.withLock { $0.append("first ends") }
        }
        let second = worker.stream { model, emit in
            log.withLock { $0.append("second begins") }
            _ = try model.logitLens("The cat sat on the mat")
            log.withLock { $0.append("second ends") }
        }
        async let firstEvents = Array(first)
        async let secondEvents = Array(second)
        #expect(await firstEvents.last == .done)
        #expect(await secondEvents.last == .done)
        #expect(log.withLock { $0 } == ["first begins", "first ends", "second begins", "second ends"])

        // A job whose listener is gone stops at its next check, and the worker goes on.
        let started = Mutex(false), checks = Mutex(0)
        let listener = Task {
            // The stream lives only in this task, as a response's stream lives in its body.
            let long = worker.stream { _, emit in
                started.withLock { $0 = true }
                for _ in 0..<2_000 {
                    try emit.checkCancelled()
                    checks.withLock { $0 += 1 }
                    emit.send(.status("working"))
                    usleep(1_000)
                }
            }
            for await event in long { if case .status("working") = event { break } }
        }
        await listener.value            // the stream is gone: its job is told to stop
        let after = worker.stream { _, emit in emit.send(.status("next job ran")) }
        #expect(Array(await Array(after)).contains(.status("next job ran")))
        #expect(started.withLock { $0 })
        #expect(checks.withLock { $0 } < 2_000)
    }
}

extension Array {
    init<S: AsyncSequence>(_ sequence: S) async rethrows where S.Element == Element {
        self = []
        for try await element in sequence { append(element) }
    }
}
