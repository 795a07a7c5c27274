import Foundation
import NNsight
import NNsightRemote
import NNsightTorch

/// One run of the model over a batch of client traces, as an ordinary engine trace, generation
/// or scan: each client invoke is an engine invoke whose body (a ``ServerInvoke``) answers that
/// client's messages; a client's prompt-less invoke covers only that client's rows.
struct BatchForward {
    let model: LanguageModel
    /// Traces of one ``TraceJob/batchKey``: all forwards, all generations with the same
    /// settings, or a single scan.
    let batch: [TraceJob]
    let deadline: Duration
    let dtype: DType
    /// A batch shared by several clients: values go to every waiting client before any answer
    /// is awaited.
    var earlySends: EarlySends? = nil

    func run() throws {
        guard let first = batch.first else { return }
        if first.scan {
            // The meta-device twin: shapes and dtypes only, no weights, nothing computed.
            try model.scanningTwin().trace(openInvokes)
        } else if let settings = first.generation {
            try model.generate(maxNewTokens: settings.maxNewTokens, sampling: settings.sampling,
                               stopAtEOS: settings.stopAtEOS, streamer: BatchTokenStreamer(batch), openInvokes)
        } else {
            try model.trace(openInvokes)
        }
    }

    /// Opens every client invoke of the batch, in arrival order.
    private func openInvokes(_ tracer: Tracer<LanguageModel>) throws {
        let shared = batch.count > 1
        if let earlySends {
            tracer.onValueReached = { earlySends.valueReached($0) }
            tracer.onStepReached = { earlySends.stepReached($0) }
        }
        var inputIndex = 0
        for job in batch {
            let covered = inputIndex..<(inputIndex + job.inputInvokeCount)
            for (index, invoke) in job.invokes.enumerated() {
                let body: (Envoy) throws -> Void = { [deadline, dtype, earlySends] root in
                    let end = ServerInvoke(job: job, index: index, root: root, deadline: deadline,
                                           sharedBatch: shared, modelDType: dtype, tracer: tracer).run(earlySends: earlySends)
                    // `stop()` ends the model run when the trace has it to itself, as locally; in
                    // a shared forward the other clients' invokes run on.
                    if end == .stopped && !shared { try tracer.stop() }
                }
                if let tokens = invoke.tokens { try tracer.invoke(tokens, body) } else { try tracer.invoke(coveringInputInvokes: covered, body) }
            }
            inputIndex += job.inputInvokeCount
        }
    }
}
