import Foundation
import NNsight
import NNsightTorch

/// What the server has done ahead of an invoke's turn: started it, or sent it the value it waits
/// for. Set on the model's thread (or the scheduler's, before the run) and taken by the invoke's
/// worker when its turn comes, so that nothing is sent twice.
// @unchecked: every `var` only under `lock` (contended by the model's thread and a worker).
final class InvokeProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var startSent = false
    private var valueSentAt: Date?
    private var done = false
    private var reading = false
    private var awaitedStep: Int?
    private var ackSentAt: Date?

    /// The `start` message went out before the run began.
    func markStarted() { lock.withLock { startSent = true } }
    /// True (once) when the `start` message already went out.
    func takeStarted() -> Bool { lock.withLock { defer { startSent = false }; return startSent } }

    /// The value of the read the invoke waits at went out at `date`.
    func markValueSent(at date: Date) { lock.withLock { valueSentAt = date } }
    /// When the value of the read just served went out early (once), or nil if it did not.
    func takeValueSent() -> Date? { lock.withLock { defer { valueSentAt = nil }; return valueSentAt } }

    /// The invoke's worker waits for a value its client asked to read (`read`), not for one the
    /// server reads to serve another message (a replaced output's check): only then may the
    /// value go out early.
    func beginRead() { lock.withLock { reading = true } }
    func endRead() { lock.withLock { reading = false } }
    var isReading: Bool { lock.withLock { reading } }

    /// The invoke's worker waits for generation step `step` to begin (a client's `step`).
    func beginStepWait(_ step: Int) { lock.withLock { awaitedStep = step } }
    func endStepWait() { lock.withLock { awaitedStep = nil } }
    /// True when the worker waits for `step` to begin.
    func awaits(step: Int) -> Bool { lock.withLock { awaitedStep == step } }
    /// The `ack` of the awaited step went out at `date`.
    func markAckSent(at date: Date) { lock.withLock { ackSentAt = date } }
    /// When the ack of the step just begun went out early (once), or nil if it did not.
    func takeAckSent() -> Date? { lock.withLock { defer { ackSentAt = nil }; return ackSentAt } }

    /// The invoke's body has returned: it sends and changes nothing more.
    func markFinished() { lock.withLock { done = true } }
    var isFinished: Bool { lock.withLock { done } }
}

/// One batched forward's early sends: when the model reaches a value that several invokes wait
/// to read, every waiting client is sent its rows at once, before the first of them is served
/// (and when a generation step begins that several wait for, each is sent its `ack` at once);
/// the invokes then take their answers one after another, in invoke order, each within its
/// deadline. Round trips of the clients of a batch so overlap instead of adding up.
///
/// Sending early is exactly what the invoke's turn would send: a client's rows are its own, and
/// nothing another client does at this call can change them. It is done only for a trace's
/// earliest unfinished invoke (a trace's own earlier invokes could change its rows first), and
/// only when the checks of the turn pass; otherwise the turn sends the value (or the error) as
/// before.
// @unchecked: `invokes` only under `lock`; the ServerInvoke values hold envoys and a tracer, which
// are used on the model's thread while every worker waits (the engine's turn-taking).
final class EarlySends: @unchecked Sendable {
    private let lock = NSLock()
    /// The invokes of the run that have started, by their position in the run.
    private var invokes: [Int: ServerInvoke] = [:]

    /// Called by an invoke's body on its worker when it starts.
    func register(_ invoke: ServerInvoke) {
        guard let order = RunningInvoke.order else { return }
        lock.withLock { invokes[order] = invoke }
    }

    /// Called on the model's thread (``Tracer/onStepReached``): every waiting client hears that
    /// the step began before the first of them continues.
    func stepReached(_ reached: StepReached) {
        for order in reached.waiting {
            guard let invoke = lock.withLock({ invokes[order] }) else { continue }
            invoke.acknowledgeEarly(step: reached.step)
        }
    }

    /// Called on the model's thread (``Tracer/onValueReached``).
    func valueReached(_ reached: ValueReached) {
        for (order, value) in reached.readers {
            guard let invoke = lock.withLock({ invokes[order] }) else { continue }
            invoke.sendEarly(value, of: reached.envoy)
        }
    }
}
