import Foundation
import NNsight
import NNsightRemote
import NNsightTorch

/// The cost of one read, measured where it happens: inside the closure, while the model waits at
/// a module, the same value is read `readsPerTrace` times and the loop is timed. Each read is a
/// real engine read (the invoke's worker hands the turn to the model's thread, which serves the
/// request at the module's hook and hands it back); remotely, each is also one round trip (read
/// message → server → engine read → value frame → client). No forward pass is inside the timed
/// loop, so the figure does not drown in the noise of whole forwards on a busy machine.
struct RemoteReadCost {
    let local: LanguageModel
    let remote: RemoteModel
    let ids: [Int]
    /// The layer read (its output is the `[1, tokens, hidden]` value).
    let layer: Int
    let rounds: Int
    let readsPerTrace = 40

    /// Microseconds per read, locally and remotely, and per round trip of each of `floors` (a
    /// frame of `frame`'s size echoed), measured round-robin so that the machine's load hits
    /// them alike (best and median of one sample per trace, or per 40 round trips).
    func measure(floors: [WebSocketFloor.Client], frame: [UInt8]) throws -> (local: Timing, remote: Timing, floors: [Timing]) {
        func perRead(_ model: some Tracing) throws -> Double {
            var elapsed = 0.0
            try model.traceIDs(ids) { m in
                _ = try m.model.layers[layer].output
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<readsPerTrace { _ = try m.model.layers[layer].output }
                elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(readsPerTrace)
            }
            return elapsed
        }
        let trips = readsPerTrace
        let floorCases = floors.map { client in
            {
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<trips { try client.roundTrip(frame) }
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(trips)
            } as () throws -> Double
        }
        let times = try interleavedSamples(rounds: rounds, warmup: 3, [{ try perRead(local) }, { try perRead(remote) }] + floorCases)
        return (times[0], times[1], Array(times[2...]))
    }

    /// The parts of a remote read that can be timed alone, in µs (median), on the read's own
    /// messages and value: what each side encodes and decodes, the client's check for in-place
    /// changes, and one wake-up of a thread waiting on a ``Mailbox``.
    static func parts(value: Tensor, rounds: Int) throws -> [(String, Double)] {
        var read = WireMessage(kind: .read, trace: 12, invoke: 0)
        read.path = "model.model.layers.0"
        read.key = .output
        let readText = WireFrame.text(read)
        let valueMessage = WireMessage(kind: .value, trace: 12, invoke: 0)
        let frame = try WireFrame.binary(valueMessage, tensor: value)
        let snapshot = try value.clone()
        let ping = Mailbox(), pong = Mailbox()
        Thread.detachNewThread {
            while case .message(let message, let tensor) = ping.take() { pong.put(.message(message, tensor)) }
        }
        defer { ping.put(.closed(CancellationError())) }
        let inner = 200
        let times = try interleavedTimes(rounds: rounds, warmup: 2, inner: inner, unitNanoseconds: 1e3, [
            { _ = WireFrame.text(read) },
            { _ = try WireFrame.decode(text: readText) },
            { _ = try WireFrame.binary(valueMessage, tensor: value) },
            { _ = try frame.withUnsafeBytes { try WireFrame.decode(binary: $0) } },
            { _ = try value.clone(); _ = try value.equal(snapshot) },
        ])
        let wakes = try interleavedTimes(rounds: rounds, warmup: 2, inner: 20, unitNanoseconds: 1e3, [
            {
                ping.put(.message(read, nil))
                _ = pong.take()
            },
        ])
        return [
            ("read message encoded (client)", times[0].median),
            ("read message decoded (server)", times[1].median),
            ("value frame encoded (server)", times[2].median),
            ("value frame decoded (client)", times[3].median),
            ("in-place change check: snapshot and compare (client)", times[4].median),
            ("one wake-up of a thread waiting on a mailbox (×2 per read, in the floor)", wakes[0].median / 2),
        ]
    }
}
