import Foundation
import NNsightRemote
import NNsightTorch

/// One client's trace on the server: its invokes' token rows, the mailboxes its invokes read the
/// client's messages from, and whether it was cancelled (by the client, a deadline or a closed
/// connection). Cancelling a trace touches nothing but its own invokes.
final class TraceJob: @unchecked Sendable {
    struct Invoke {
        /// The token rows of an invoke with input; nil for a prompt-less invoke.
        let tokens: [[Int]]?
        let mailbox = Mailbox()
        /// What the server did ahead of this invoke's turn.
        let progress = InvokeProgress()
    }

    let session: ClientSession
    /// The client's number for this trace.
    let trace: Int
    let invokes: [Invoke]
    let limits: KeyLimits
    let keyName: String
    let arrival = Date()
    /// Rows of the batch this trace covers (all its input invokes).
    let rowCount: Int
    /// Its longest token row: traces batch only with traces of the same longest row, so that each
    /// is padded exactly as it would be alone (left padding shifts positions).
    let length: Int

    private let lock = NSLock()
    private var cancelReason: RemoteError?
    private var ended = false

    init(session: ClientSession, trace: Int, invokes: [Invoke], limits: KeyLimits, keyName: String) {
        self.session = session
        self.trace = trace
        self.invokes = invokes
        self.limits = limits
        self.keyName = keyName
        rowCount = invokes.reduce(0) { $0 + ($1.tokens?.count ?? 0) }
        length = invokes.compactMap { $0.tokens?.map(\.count).max() }.max() ?? 0
    }

    var inputInvokeCount: Int { invokes.filter { $0.tokens != nil }.count }

    /// True when every invoke of this trace before `index` has finished: nothing of this trace
    /// can then change invoke `index`'s rows before its turn, and the server may run ahead for it.
    func mayRunAhead(_ index: Int) -> Bool {
        !isCancelled && invokes[..<index].allSatisfy { $0.progress.isFinished }
    }

    var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelReason != nil
    }

    /// Cancels this trace alone: its invokes stop serving the client, and the client is told why
    /// (unless `notify` is false: the client itself ended it). Returns false if it was already.
    @discardableResult
    func cancel(_ reason: RemoteError, notify: Bool = true) -> Bool {
        lock.lock()
        guard cancelReason == nil, !ended else {
            lock.unlock()
            return false
        }
        cancelReason = reason
        lock.unlock()
        for invoke in invokes { invoke.mailbox.put(.closed(reason)) }
        if notify { session.send(.error(reason.code, reason.message, trace: trace)) }
        return true
    }

    /// The batched forward this trace was part of has ended (with `error` if it failed).
    func end(runError: (any Error)?) {
        lock.lock()
        let reason = cancelReason
        let alreadyEnded = ended
        ended = true
        lock.unlock()
        guard !alreadyEnded else { return }
        var status = WireMessage(kind: .status, trace: trace)
        if let reason {
            status.state = .error
            status.code = reason.code
            status.message = reason.message
        } else if let runError {
            status.state = .error
            status.code = .server
            status.message = "the batched forward failed: \(runError)"
        } else {
            status.state = .completed
        }
        session.send(status)
        session.traceEnded(trace)
    }
}
