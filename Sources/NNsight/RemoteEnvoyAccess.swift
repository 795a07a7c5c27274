import NNsightNN
import NNsightTorch

/// Where an envoy's value accesses go when they are not served by a local trace on this thread:
/// a remote model's client, which turns each access into a message to the server that runs the
/// model. Installed with ``RemoteEnvoyAccessScope`` around the closure of a remote invoke.
///
/// Only envoys of the tree the backend serves (`treeIdentity`) are routed to it; any other
/// envoy keeps the local error (`NNsightError.outsideInterleaving`).
package protocol RemoteEnvoyAccess: AnyObject, Sendable {
    /// The identity of the envoy tree this backend serves.
    var treeIdentity: UInt64 { get }
    /// `envoy.output` / `envoy.input`: the value at the envoy's current call.
    func read(_ envoy: Envoy, _ key: ValueKey) throws -> Tensor
    /// `setOutput` / `setInput` / `skip`.
    func write(_ envoy: Envoy, _ key: ValueKey, _ value: Tensor) throws
    /// `envoy.next(count)`.
    func advance(_ envoy: Envoy, by count: Int) throws
    /// The named arguments of the call whose input was read last (`envoy.inputs`).
    func lastContext(_ envoy: Envoy) throws -> ForwardContext
    /// One turn of `for step in tracer.iter(...)`: waits until `step` begins; false when the run
    /// ended first (or on an error, which the invoke raises at its next access, as a local loop's).
    func beginStep(_ step: Int, openEnded: Bool) -> Bool
    /// `barrier()`: waits until the barrier's other participants arrive.
    func wait(at barrier: Barrier) throws
    /// The error for something a remote invoke cannot do (`what` names it).
    func unavailable(_ what: String) -> any Error
}

/// The remote backend of the invoke running on this thread, if any.
package enum RemoteEnvoyAccessScope {
    @TaskLocal package static var current: (any RemoteEnvoyAccess)?

    /// The backend for `envoy`, or the error a local access outside a trace raises.
    static func require(for envoy: Envoy, key: ValueKey, action: String) throws -> any RemoteEnvoyAccess {
        guard let backend = current, backend.treeIdentity == envoy.treeIdentity else {
            throw NNsightError.outsideInterleaving(requester: "\(envoy.path).\(key.rawValue)", action: action)
        }
        return backend
    }
}

extension Envoy {
    /// The local mediator serving this envoy on this thread, if a local trace runs it.
    @inline(__always)
    func localMediator() -> Mediator? {
        guard let mediator = Mediator.current, mediator.treeIdentity == treeIdentity else { return nil }
        return mediator
    }
}
