import NNsight
import NNsightNN
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
            if let payload = message.engineError, let error = SourceError(payload: payload) { return error }
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

extension SourceError {
    /// The payload a `.source` error travels as (its name prefixed `source.`, its fields in the
    /// payload's: `path`; a role or a name in `requester`; a type, a module or the valid names
    /// in `reason`).
    public var payload: EngineErrorPayload {
        switch self {
        case .unknownOperation(let path, let name, let valid):
            EngineErrorPayload(name: "source.unknownOperation", requester: name, path: path, reason: valid.joined(separator: ","))
        case .notSourced(let path): EngineErrorPayload(name: "source.notSourced", path: path)
        case .notMarked(let path): EngineErrorPayload(name: "source.notMarked", path: path)
        case .sourceOnModule(let path, let module): EngineErrorPayload(name: "source.sourceOnModule", path: path, reason: module)
        case .outsideTrace(let path): EngineErrorPayload(name: "source.outsideTrace", path: path)
        case .notATensor(let path, let role, let type):
            EngineErrorPayload(name: "source.notATensor", requester: role, path: path, reason: type)
        case .wrongType(let path, let role, let expected):
            EngineErrorPayload(name: "source.wrongType", requester: role, path: path, reason: expected)
        case .notCallable(let path): EngineErrorPayload(name: "source.notCallable", path: path)
        }
    }

    init?(payload: EngineErrorPayload) {
        guard let path = payload.path else { return nil }
        switch (payload.name, payload.requester, payload.reason) {
        case ("source.unknownOperation", let name?, let valid?):
            self = .unknownOperation(path: path, name: name, valid: valid.isEmpty ? [] : valid.split(separator: ",").map(String.init))
        case ("source.notSourced", _, _): self = .notSourced(path: path)
        case ("source.notMarked", _, _): self = .notMarked(path: path)
        case ("source.sourceOnModule", _, let module?): self = .sourceOnModule(path: path, module: module)
        case ("source.outsideTrace", _, _): self = .outsideTrace(path: path)
        case ("source.notATensor", let role?, let type?): self = .notATensor(path: path, role: role, type: type)
        case ("source.wrongType", let role?, let expected?): self = .wrongType(path: path, role: role, expected: expected)
        case ("source.notCallable", _, _): self = .notCallable(path: path)
        default: return nil
        }
    }
}
