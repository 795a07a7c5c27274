import Foundation
import NNsight
import NNsightRemote

/// The streamer of a batched generation: each step's tokens go to every trace that asked for
/// them (`trace.stream`), each trace receiving only its own rows, numbered within the trace as
/// a local generation of that trace numbers them. Called on the model's thread as each step
/// ends, so a client receives a step's tokens before anything of the next step.
final class BatchTokenStreamer: TokenStreamer {
    /// The streaming traces and the rows of the batch each covers.
    private let listeners: [(job: TraceJob, rows: Range<Int>)]

    /// The streamer for `batch` (traces in the batch's row order), or nil when none streams.
    init?(_ batch: [TraceJob]) {
        var listeners: [(job: TraceJob, rows: Range<Int>)] = []
        var start = 0
        for job in batch {
            if job.stream { listeners.append((job, start..<(start + job.rowCount))) }
            start += job.rowCount
        }
        guard !listeners.isEmpty else { return nil }
        self.listeners = listeners
    }

    func receive(_ tokens: [StreamedToken]) {
        for (job, rows) in listeners where !job.isCancelled {
            var message = WireMessage(kind: .tokens, trace: job.trace)
            message.step = tokens.first?.step
            message.tokens = tokens.filter { rows.contains($0.row) }.map { token in
                var own = token
                own.row -= rows.lowerBound
                return own
            }
            job.session.send(message)
        }
    }

    /// The client ends its streamer when its trace ends (it hears that last).
    func finish() {}
}
