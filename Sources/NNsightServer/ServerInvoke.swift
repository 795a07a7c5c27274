import Foundation
import NNsight
import NNsightNN
import NNsightRemote
import NNsightTorch

/// The body of one client invoke on the server: an ordinary engine invoke whose closure is a
/// loop that receives the client's accesses and performs them on the envoys, on the engine's
/// worker, exactly as a local closure would. It never throws into the engine: whatever goes wrong
/// is answered to its client, so the other clients of the batch are not disturbed.
struct ServerInvoke {
    let job: TraceJob
    let index: Int
    let root: Envoy
    let deadline: Duration
    let sharedBatch: Bool
    /// The dtype of the model's activations.
    let modelDType: DType
    /// The server's tracer of the run (steps, results, caches).
    let tracer: Tracer<LanguageModel>

    /// How the client's invoke ended.
    enum End {
        case finished
        /// The closure called `stop()`.
        case stopped
    }

    /// Serves the client's accesses until its closure ends. With `earlySends` (a batch shared by
    /// several clients), values may reach the client before this invoke's turn.
    @discardableResult
    func run(earlySends: EarlySends? = nil) -> End {
        guard !job.isCancelled else { return .finished }
        let mailbox = job.invokes[index].mailbox
        let progress = job.invokes[index].progress
        defer { progress.markFinished() }
        earlySends?.register(self)
        if !progress.takeStarted() { job.session.send(WireMessage(kind: .start, trace: job.trace, invoke: index)) }
        /// The last value read of each `path|key`, for the client's in-place changes.
        var lastReads: [String: Tensor] = [:]
        /// When the client was sent the value it is answering, if that was before this turn:
        /// its deadline runs from then.
        var sentAt: Date?
        while true {
            guard let delivery = mailbox.take(before: (sentAt ?? Date()).addingTimeInterval(deadline.seconds)) else {
                job.cancel(.protocolError(.deadlineExceeded,
                                          "trace \(job.trace) did not answer within \(deadline); it was cancelled"))
                return .finished
            }
            sentAt = nil
            guard case .message(let message, let tensor) = delivery else { return .finished }
            switch message.kind {
            case .finished:
                return message.stopped == true ? .stopped : .finished
            case .failed:
                job.cancel(.protocolError(.cancelled, "invoke \(index) failed on the client: \(message.message ?? "")"), notify: false)
                return .finished
            default:
                do {
                    sentAt = try handle(message, tensor, lastReads: &lastReads)
                } catch {
                    if job.isCancelled { return .finished }
                    job.session.send(ServerInvoke.errorMessage(for: error, trace: job.trace, invoke: index))
                }
                if job.isCancelled { return .finished }
            }
        }
    }

    /// Sends the client `value` (its rows of the value its pending read waits for) ahead of its
    /// turn, when this is the trace's earliest unfinished invoke and the turn's checks pass;
    /// otherwise sends nothing (the turn will). Called on the model's thread.
    func sendEarly(_ value: Tensor, of envoy: Envoy) {
        guard job.invokes[index].progress.isReading, job.mayRunAhead(index), (try? checkRows(value, envoy: envoy)) != nil,
              (try? reply(value)) != nil else { return }
        job.invokes[index].progress.markValueSent(at: Date())
    }

    /// Acknowledges the step this invoke waits for, ahead of its turn: the step has begun, and
    /// nothing another invoke does at its start can change that. Only for a trace's earliest
    /// unfinished invoke (as values). Called on the model's thread.
    func acknowledgeEarly(step: Int) {
        let progress = job.invokes[index].progress
        guard progress.awaits(step: step), job.mayRunAhead(index) else { return }
        var ack = WireMessage(kind: .ack, trace: job.trace, invoke: index)
        ack.began = true
        job.session.send(ack)
        progress.markAckSent(at: Date())
    }

    /// Serves one access; returns when the answer went out, if that was before this turn.
    private func handle(_ message: WireMessage, _ tensor: Tensor?, lastReads: inout [String: Tensor]) throws -> Date? {
        if let tensor, (tensor.device == .meta) != job.scan {
            throw RemoteError.protocolError(.tensorMismatch, job.scan ? "a scan takes meta tensors (shape and dtype only)"
                                                                      : "a meta tensor (no data) written into a trace that runs the model")
        }
        switch message.kind {
        case .read:
            let (envoy, key) = try target(message)
            let progress = job.invokes[index].progress
            let value: Tensor
            progress.beginRead()
            defer { progress.endRead() }
            do {
                value = try (key == .input ? envoy.input : envoy.output)
            } catch {
                _ = progress.takeValueSent()
                throw error
            }
            let sentAt = progress.takeValueSent()
            try checkRows(value, envoy: envoy)
            lastReads["\(envoy.path)|\(key.rawValue)"] = value
            if let sentAt { return sentAt }
            try reply(value)
        case .write:
            let (envoy, key) = try target(message)
            guard let tensor else { throw RemoteError.protocolError(.malformedFrame, "a write carries no tensor") }
            switch message.mode ?? .replace {
            case .inPlace:
                guard let current = lastReads["\(envoy.path)|\(key.rawValue)"] else {
                    throw RemoteError.protocolError(.unexpectedMessage, "an in-place change of \(envoy.path).\(key.rawValue), which this invoke never read")
                }
                try check(tensor, against: current, at: envoy, key)
                try current.copy_(tensor)
            case .replace where message.key == .skip && !sharedBatch:
                // The trace has the forward to itself: a real skip at the module's input, as
                // locally (the module and its children do not run; a partial skip of the
                // trace's invokes is the engine's `incompleteSkip`).
                try checkSkip(tensor, for: envoy)
                try envoy.skip(tensor)
            case .replace where key == .input:
                // The engine serves no second request at a module's input once the call began, so
                // the input is not read first: the written tensor must be what such an input is.
                try checkInput(tensor, for: envoy)
                try envoy.setInput(tensor)
            case .replace:
                let current = try envoy.output
                try checkRows(current, envoy: envoy)
                try check(tensor, against: current, at: envoy, key)
                // In a shared forward a skip becomes a replaced output: the module still runs
                // for the batch's other clients, so it cannot be skipped for one client's rows
                // alone (docs/remote-protocol.md, "Skips").
                try envoy.setOutput(tensor)
            }
            job.session.send(WireMessage(kind: .ack, trace: job.trace, invoke: index))
        case .next:
            let count = message.count ?? 1
            guard (1...1_000_000).contains(count) else {
                throw RemoteError.protocolError(.malformedFrame, "next(\(count)): the count must be between 1 and 1000000")
            }
            // Without a path: the tracer's `next()`, for every module.
            if message.path == nil { try tracer.next(count) } else { try resolve(message.path).next(count) }
        case .step, .result, .cache, .barrier:
            return try handleTracerOperation(message)
        case .apply:
            let envoy = try resolve(message.path)
            guard let tensor else { throw RemoteError.protocolError(.malformedFrame, "calling \(envoy.path) needs a tensor") }
            guard tensor.dtype.isFloatingPoint || tensor.dtype == .int64 else {
                throw RemoteError.protocolError(.tensorMismatch, "calling \(envoy.path) with a \(tensor.dtype) tensor")
            }
            try reply(try envoy(tensor))
        default:
            throw RemoteError.protocolError(.unexpectedMessage, "\(message.kind.rawValue) is not an access")
        }
        return nil
    }

    /// `tracer.iter`, `tracer.result()`, `tracer.cache(...)`, `barrier()`, done on the server's
    /// tracer on this invoke's worker, as a local closure would. Returns when a step's `ack`
    /// went out, if that was before this turn.
    private func handleTracerOperation(_ message: WireMessage) throws -> Date? {
        switch message.kind {
        case .step:
            guard let step = message.step, (0...1_000_000).contains(step) else {
                throw RemoteError.protocolError(.malformedFrame, "a step names a step between 0 and 1000000")
            }
            let progress = job.invokes[index].progress
            progress.beginStepWait(step)
            let began: Bool
            do {
                defer { progress.endStepWait() }
                began = try tracer.beginStep(step)
            } catch {
                _ = progress.takeAckSent()
                throw error
            }
            if let sentAt = progress.takeAckSent() { return sentAt }
            var ack = WireMessage(kind: .ack, trace: job.trace, invoke: index)
            ack.began = began
            job.session.send(ack)
        case .result:
            let value = try tracer.result()
            if sharedBatch { try checkRows(value, envoy: root) }
            try reply(value)
        case .cache:
            guard let number = message.cache, (0..<1024).contains(number), (message.paths?.count ?? 0) <= 100_000 else {
                throw RemoteError.protocolError(.malformedFrame, "a cache names its number (0 to 1023) and at most 100000 paths")
            }
            let modules = try message.paths.map { try $0.map(resolve) }
            let cache = try tracer.cache(modules: modules, includeInputs: message.includeInputs ?? false,
                                         includeOutputs: message.includeOutputs ?? true)
            try job.add(cache: cache, number: number, invoke: index)
            job.session.send(WireMessage(kind: .ack, trace: job.trace, invoke: index))
        case .barrier:
            guard let number = message.barrier, let count = message.count else {
                throw RemoteError.protocolError(.malformedFrame, "a barrier names its number and count")
            }
            try job.barrier(number, count: count)()
            job.session.send(WireMessage(kind: .ack, trace: job.trace, invoke: index))
        default:
            throw RemoteError.protocolError(.unexpectedMessage, "\(message.kind.rawValue) is not a tracer operation")
        }
        return nil
    }

    private func reply(_ value: Tensor) throws {
        let frame = try WireFrame.binary(WireMessage(kind: .value, trace: job.trace, invoke: index), tensor: value)
        guard frame.count <= job.limits.responseBytes else {
            throw RemoteError.protocolError(.limitExceeded, "a \(frame.count)-byte value exceeds this key's \(job.limits.responseBytes)-byte response limit")
        }
        job.session.send(frame: frame)
    }

    private func target(_ message: WireMessage) throws -> (Envoy, WireValueKey) {
        let envoy = try resolve(message.path)
        guard let key = message.key else { throw RemoteError.protocolError(.malformedFrame, "an access to \(envoy.path) names no value (output, input or skip)") }
        return (envoy, key == .skip ? .output : key)
    }

    /// The envoy at a client's path (`model.transformer.h.0`).
    private func resolve(_ path: String?) throws -> Envoy { try root.resolve(wirePath: path, shared: sharedBatch) }

    /// A written tensor must have the dtype and shape of the value it replaces.
    private func check(_ tensor: Tensor, against current: Tensor, at envoy: Envoy, _ key: WireValueKey) throws {
        guard tensor.dtype == current.dtype, tensor.shape == current.shape else {
            throw RemoteError.protocolError(.tensorMismatch, "\(envoy.path).\(key.rawValue) is \(WireFrame.wireName(current.dtype)) \(current.shape); the written tensor is \(WireFrame.wireName(tensor.dtype)) \(tensor.shape)")
        }
    }

    /// A skip's value, checked before the module runs (its output is not known yet): the
    /// model's dtype, and this invoke's rows as its first dimension (the engine joins the skip
    /// values of a trace's invokes along it).
    private func checkSkip(_ tensor: Tensor, for envoy: Envoy) throws {
        guard tensor.dtype == modelDType else {
            throw RemoteError.protocolError(.tensorMismatch, "a skip of \(envoy.path) takes \(WireFrame.wireName(modelDType)); the written tensor is \(WireFrame.wireName(tensor.dtype))")
        }
        let rows = job.invokes[index].tokens?.count ?? job.rowCount
        guard tensor.rank > 0, try tensor.size(0) == rows else {
            throw RemoteError.protocolError(.tensorMismatch, "a skip of \(envoy.path) needs this invoke's \(rows) rows as its first dimension; the written tensor is \(tensor.shape)")
        }
    }

    /// A new input: token ids (int64) for an embedding, the model's dtype otherwise, and in a
    /// shared batch this invoke's rows.
    private func checkInput(_ tensor: Tensor, for envoy: Envoy) throws {
        let expected: DType = envoy.module is Embedding ? .int64 : modelDType
        guard tensor.dtype == expected else {
            throw RemoteError.protocolError(.tensorMismatch, "\(envoy.path).input takes \(WireFrame.wireName(expected)); the written tensor is \(WireFrame.wireName(tensor.dtype))")
        }
        try checkRows(tensor, envoy: envoy)
    }

    /// In a batch shared by several clients, a value whose first dimension is not this client's
    /// rows would show other clients' data: it is refused.
    private func checkRows(_ value: Tensor, envoy: Envoy) throws {
        guard sharedBatch else { return }
        let rows = job.invokes[index].tokens?.count ?? job.rowCount
        guard value.rank > 0, try value.size(0) == rows else {
            throw RemoteError.protocolError(.unexpectedMessage, "\(envoy.path) has no batch dimension (shape \(value.shape)); in a batch shared with other clients it cannot be read or written")
        }
    }

    /// The `error` message for an error raised while serving an access.
    static func errorMessage(for error: any Error, trace: Int, invoke: Int) -> WireMessage {
        switch error {
        case let remote as RemoteError:
            return .error(remote.code, remote.message, trace: trace, invoke: invoke)
        case let engine as NNsightError:
            var message = WireMessage.error(.engine, engine.description, trace: trace, invoke: invoke)
            message.engineError = engine.payload
            return message
        case let source as SourceError:
            // The kind and its fields travel too, so the client raises an equal `SourceError`.
            var message = WireMessage.error(.engine, source.description, trace: trace, invoke: invoke)
            message.engineError = source.payload
            return message
        case let torch as TorchError:
            // The kind travels too, so the client raises an equal `TorchError`.
            var message = WireMessage.error(.torch, torch.message, trace: trace, invoke: invoke)
            message.engineError = EngineErrorPayload(name: torch.kind.rawValue)
            return message
        default:
            return .error(.server, "\(error)", trace: trace, invoke: invoke)
        }
    }
}
