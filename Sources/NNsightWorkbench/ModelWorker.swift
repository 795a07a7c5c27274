import Dispatch
import Foundation
import NNsight
import Synchronization

/// Owns the loaded model and runs one job at a time on its own thread, so that requests from
/// several pages (tabs) queue instead of sharing a trace; each job streams its events.
///
/// `@unchecked Sendable`, earned by confinement: the model (not `Sendable` itself) is touched
/// only by jobs on the serial `queue`, one at a time.
final class ModelWorker: @unchecked Sendable {
    // Touched only on `queue`.
    private let model: LanguageModel
    private let queue = DispatchQueue(label: "nnsight.workbench.model")

    init(model: LanguageModel) { self.model = model }

    /// Thrown by a job whose client went away.
    struct Cancelled: Error {}

    /// What a job uses to report: events for the page, and whether the page is still listening.
    final class Emitter: Sendable {
        private let continuation: AsyncStream<ServerEvent>.Continuation
        /// Set from whichever thread ends the page's stream, read on the model's queue.
        private let cancelled = Atomic<Bool>(false)

        init(_ continuation: AsyncStream<ServerEvent>.Continuation) { self.continuation = continuation }

        func send(_ event: ServerEvent) { continuation.yield(event) }

        /// Throws ``Cancelled`` once the client has gone.
        func checkCancelled() throws {
            if cancelled.load(ordering: .acquiring) { throw Cancelled() }
        }

        func cancel() { cancelled.store(true, ordering: .releasing) }
        func finish() { continuation.finish() }
    }

    /// Queues `job` and returns its events; the stream ends after `done` or `error`. A job that
    /// throws ends with its error's description as the `error` event.
    func stream(_ job: @escaping @Sendable (LanguageModel, Emitter) throws -> Void) -> AsyncStream<ServerEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: ServerEvent.self, bufferingPolicy: .unbounded)
        let emitter = Emitter(continuation)
        continuation.onTermination = { _ in emitter.cancel() }
        emitter.send(.status("waiting for the model"))
        queue.async { [self] in
            defer { emitter.finish() }
            do {
                try emitter.checkCancelled()
                try job(self.model, emitter)
                emitter.send(.done)
            } catch is Cancelled {
            } catch {
                emitter.send(.error(String(describing: error)))
            }
        }
        return stream
    }
}
