import Foundation
import NNsightTorch

/// A capture job submitted to the server: what to ask for its result with, and how long the
/// server keeps the result once it is ready.
public struct CaptureJob: Sendable, Equatable {
    public let id: String
    /// Seconds the finished result is kept on the server.
    public let keptForSeconds: Int
}

/// Where a capture job stands.
public enum CaptureResult: Sendable {
    /// Queued or running.
    case pending(TraceState)
    /// The safetensors file: tensor `"<prompt index>.<module path>"` for each prompt and module
    /// (`"0.model.transformer.h.0"`), `[rows, tokens, hidden]` as the module returned it.
    case ready(Data)
    /// The job failed on the server.
    case failed(String)
}

extension RemoteModel {
    /// Submits a capture job: the outputs of `modules` (envoy paths, `model.transformer.h.0`) over
    /// each prompt, recorded on the server without this client; returns at once. Fetch the result
    /// later with ``captureResult(_:)``. Python NDIF: `model.trace(..., remote=True, blocking=False)`
    /// with `.save()`d module outputs.
    public func capture(_ prompts: [String], modules: [String]) throws -> CaptureJob {
        var request = WireMessage(kind: .capture, trace: reserveRequestNumber())
        request.texts = prompts
        request.paths = modules
        let answer = try exchange(request)
        guard answer.kind == .status, let id = answer.job else { throw RemoteError.from(answer) }
        return CaptureJob(id: id, keptForSeconds: answer.keptForSeconds ?? 0)
    }

    /// The result of a capture job, or where it stands.
    public func captureResult(_ job: CaptureJob) throws -> CaptureResult {
        var request = WireMessage(kind: .fetch, trace: reserveRequestNumber())
        request.job = job.id
        let (answer, tensor) = try exchangeWithTensor(request)
        switch (answer.kind, answer.state) {
        case (.value, _):
            guard let tensor, tensor.dtype == .uint8 else {
                throw RemoteError.protocolError(.malformedFrame, "a capture result must be a uint8 tensor")
            }
            return .ready(try tensor.withUnsafeMutableBytes { Data($0) })
        case (.status, .error?): return .failed(answer.message ?? "the capture failed")
        case (.status, let state?): return .pending(state)
        default: throw RemoteError.from(answer)
        }
    }

    private func exchange(_ request: WireMessage) throws -> WireMessage {
        try exchangeWithTensor(request).0
    }

    /// Sends a request outside a trace and waits for the answer addressed to its number.
    private func exchangeWithTensor(_ request: WireMessage) throws -> (WireMessage, Tensor?) {
        let number = request.trace ?? -1
        defer { connection.release(trace: number) }
        try connection.send(request)
        switch connection.mailbox(.init(trace: number, invoke: -1)).take(before: Date(timeIntervalSinceNow: 60)) {
        case .message(let message, let tensor): return (message, tensor)
        case .closed(let error): throw error
        case nil: throw RemoteError.connection("no answer to \(request.kind.rawValue) within 60 s")
        }
    }
}
