import NNsight
import NNsightTorch

/// Errors of remote execution. Engine errors raised on the server (out of order, missed, …)
/// arrive as the same `NNsightError` a local trace raises, and libtorch's as `TorchError`.
public enum RemoteError: Error, CustomStringConvertible, Equatable {
    /// A typed error of the protocol, from the server or found by the client.
    case protocolError(RemoteErrorCode, String)
    /// The client and server speak different protocol versions.
    case versionMismatch(client: Int, clientLibrary: String, server: Int, serverLibrary: String)
    /// The connection could not be opened, or closed while a trace needed it.
    case connection(String)
    /// Something that a local trace can do but a remote one cannot (yet), named.
    case notAvailableRemotely(String)

    public var description: String {
        switch self {
        case .protocolError(let code, let message): return "remote \(code.rawValue): \(message)"
        case .versionMismatch(let client, let clientLibrary, let server, let serverLibrary):
            return "protocol version mismatch: this client speaks protocol \(client) (swift-nnsight \(clientLibrary)), the server protocol \(server) (swift-nnsight \(serverLibrary))"
        case .connection(let message): return "remote connection: \(message)"
        case .notAvailableRemotely(let what): return "\(what) is not available on a remote model"
        }
    }

    /// The text this error travels with (its description without the code).
    public var message: String {
        if case .protocolError(_, let message) = self { return message }
        return description
    }

    /// The code this error travels with.
    public var code: RemoteErrorCode {
        switch self {
        case .protocolError(let code, _): code
        case .versionMismatch: .versionMismatch
        case .connection: .cancelled
        case .notAvailableRemotely: .unexpectedMessage
        }
    }

    /// The error an `error` message describes, as the client raises it.
    static func from(_ message: WireMessage) -> any Error {
        let text = message.message ?? "(no message)"
        switch message.code {
        case .engine:
            if let payload = message.engineError, let error = NNsightError(payload: payload) { return error }
            return RemoteError.protocolError(.engine, text)
        case .torch: return TorchError(message.engineError.flatMap { TorchError.Kind(rawValue: $0.name) } ?? .other, text)
        case .some(let code): return RemoteError.protocolError(code, text)
        case nil: return RemoteError.protocolError(.server, text)
        }
    }
}

extension NNsightError {
    /// The payload this error travels as, when it has one.
    public var payload: EngineErrorPayload? {
        switch self {
        case .outOfOrder(let requester): EngineErrorPayload(name: "outOfOrder", requester: requester)
        case .missed(let requester): EngineErrorPayload(name: "missed", requester: requester)
        case .incompleteSkip(let path): EngineErrorPayload(name: "incompleteSkip", path: path)
        case .cancelled: EngineErrorPayload(name: "cancelled")
        case .barrierNeverReached(let expected, let arrived):
            EngineErrorPayload(name: "barrierNeverReached", expected: expected, arrived: arrived)
        case .invalidInput(let reason): EngineErrorPayload(name: "invalidInput", reason: reason)
        case .notCached(let path): EngineErrorPayload(name: "notCached", path: path)
        case .outsideInterleaving(let requester, let action):
            EngineErrorPayload(name: "outsideInterleaving", requester: requester, reason: action)
        default: nil
        }
    }

    init?(payload: EngineErrorPayload) {
        switch (payload.name, payload.requester, payload.path) {
        case ("outOfOrder", let requester?, _): self = .outOfOrder(requester: requester)
        case ("missed", let requester?, _): self = .missed(requester: requester)
        case ("incompleteSkip", _, let path?): self = .incompleteSkip(path: path)
        case ("cancelled", _, _): self = .cancelled
        case ("notCached", _, let path?): self = .notCached(path: path)
        case ("barrierNeverReached", _, _):
            guard let expected = payload.expected, let arrived = payload.arrived else { return nil }
            self = .barrierNeverReached(expected: expected, arrived: arrived)
        case ("invalidInput", _, _):
            guard let reason = payload.reason else { return nil }
            self = .invalidInput(reason)
        case ("outsideInterleaving", let requester?, _):
            guard let action = payload.reason else { return nil }
            self = .outsideInterleaving(requester: requester, action: action)
        default: return nil
        }
    }
}
