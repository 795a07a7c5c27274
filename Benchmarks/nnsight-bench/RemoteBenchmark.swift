import ArgumentParser
import Foundation
import Logging
import NNsight
import NNsightRemote
import NNsightServer
import NNsightTorch

/// Remote tracing over loopback against local tracing, in one run: the cost of one read, the
/// gain of co-batching several clients, and a 12-layer save.
struct RemoteBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote", abstract: "Remote (nnsight serve on 127.0.0.1) against local tracing of the default model.")

    @Option(help: "Timed rounds of each case.")
    var rounds = 30

    @Option(help: "The checkpoint to serve.")
    var model = Reference.smolLM2Path

    func run() throws {
        try Torch.setNumThreads(1)
        let local = try LanguageModel(path: model, dispatch: true)
        var logger = Logger(label: "nnsight.bench.serve")
        logger.logLevel = .warning
        // The server's default batch window (a lone client never waits for it).
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.defaultLimits.concurrentTraces = 64
        func startServer(_ configuration: ServerConfiguration) throws -> (RemoteServer, String) {
            let server = try RemoteServer(model: LanguageModel(path: model, dispatch: true), configuration: configuration, logger: logger)
            let port = try blocking { try await server.port } startingWith: { try await server.run() }
            return (server, "ws://127.0.0.1:\(port)")
        }
        let (server, url) = try startServer(configuration)
        defer { _ = try? blocking { await server.shutDown() } }
        let remote = try RemoteModel(url: url)

        let ids = Array(try local.tokenRows("The capital of France is Paris")[0].prefix(5))
        let layers = local.root.namedModules().filter { $0.path.hasPrefix("model.model.layers.") && $0.path.split(separator: ".").count == 4 }.count
        print("Default model \((model as NSString).lastPathComponent): \(layers) layers; prompt of \(ids.count) tokens; \(rounds) rounds")

        // 1. The cost of one read, timed inside the closure (see RemoteReadCost), against the
        // floor: a round trip of a frame of the value's size over the same WebSocket stack, no
        // model, echoed by the server's reader task, or through a mailbox and a thread as the
        // server's invokes answer; measured in the same rounds. Then a trace saving twelve
        // layers, local against remote.
        let value = try local.trace(ids) { m in try m.model.layers[0].output }
        let frame = try WireFrame.binary(WireMessage(kind: .value, trace: 1, invoke: 0), tensor: value)
        let echoes = try [WebSocketFloor.Echo.direct, .threaded, .threadedToChannel].map { try WebSocketFloor(echo: $0) }
        let echoClients = echoes.map { WebSocketFloor.Client(port: $0.port) }
        let readCost = RemoteReadCost(local: local, remote: remote, ids: ids, layer: 0, rounds: rounds)
        let perRead = try readCost.measure(floors: echoClients, frame: frame)
        echoClients.forEach { $0.close() }
        echoes.forEach { $0.stop() }
        let floors = perRead.floors.map(\.median)
        func reads(_ model: some Tracing, _ count: Int) throws {
            try model.traceIDs(ids) { m in
                for layer in (layers - count)..<layers { _ = try m.model.layers[layer].output }
            }
        }
        let times = try interleavedTimes(rounds: rounds, warmup: 3, unitNanoseconds: 1e3, [
            { try reads(local, 12) }, { try reads(remote, 12) },
        ])
        remote.close()
        let parts = try RemoteReadCost.parts(value: value, rounds: rounds)

        print(String(format: "read of a %@ float32 value (model.model.layers.0.output read %d times in a row while the model waits there, timed inside the closure; median of %d traces): local %.1f µs, remote %.1f µs per read; remote costs %.1f µs more (target ≤ 200)",
                     "\(value.shape)", readCost.readsPerTrace, rounds, perRead.local.median, perRead.remote.median, perRead.remote.median - perRead.local.median))
        print(String(format: "WebSocket round trip alone, in the same rounds (a %d-byte frame each way, same stack, no model): %.1f µs echoed by the reader task, %.1f µs through a mailbox and a thread, %.1f µs written by that thread to the channel",
                     frame.count, floors[0], floors[1], floors[2]))
        // The floor of the server's own structure: a thread answers, writing to the channel.
        let accounted = floors[2] + perRead.local.median + parts.dropLast().reduce(0) { $0 + $1.1 }
        print("where a remote read's time goes (µs, medians; the floor through a thread that writes to the channel, as the server's invokes answer, covers the network, both event loops, the server's reader task, the client's reader and writer tasks and two mailbox wake-ups):")
        print(String(format: "  WebSocket floor %.1f + the local engine read %.1f", floors[2], perRead.local.median)
            + parts.map { String(format: " + %@ %.1f", $0.0, $0.1) }.dropLast().joined()
            + String(format: " = %.1f; unaccounted %.1f", accounted, perRead.remote.median - accounted))
        print(String(format: "  (%@: %.1f)", parts.last!.0, parts.last!.1))
        print(String(format: "trace saving 12 layers: local %.2f ms, remote %.2f ms: remote/local %.2f× (target ≤ 1.5×)",
                     times[0].median / 1e3, times[1].median / 1e3, times[1].median / times[0].median))

        // 2. Eight clients, one trace each with two reads: together (co-batched) or one after another.
        let clients = try (0..<8).map { _ in try RemoteModel(url: url) }
        // Eight different prompts of one length (the server batches traces of equal length).
        let prompts = (0..<8).map { offset in ids.map { $0 + offset } }
        @Sendable func clientTrace(_ index: Int) throws {
            try clients[index].trace(prompts[index]) { m in
                _ = try m.model.layers[3].output
                _ = try m.model.layers[layers - 1].output
            }
        }
        // One after another: the same clients on a server that never waits for companions.
        var alone = configuration
        alone.batchWindow = .zero
        let (sequentialServer, sequentialURL) = try startServer(alone)
        defer { _ = try? blocking { await sequentialServer.shutDown() } }
        let sequentialClients = try (0..<8).map { _ in try RemoteModel(url: sequentialURL) }
        func sequentialTrace(_ index: Int) throws {
            try sequentialClients[index].trace(prompts[index]) { m in
                _ = try m.model.layers[3].output
                _ = try m.model.layers[layers - 1].output
            }
        }
        let before = server.stats
        /// Per round: from the first client thread's call of `trace` to the last one's (ms).
        var spreads: [Double] = []
        let batched = try interleavedTimes(rounds: max(rounds / 3, 3), warmup: 1, unitNanoseconds: 1e6, [
            { for index in 0..<8 { try sequentialTrace(index) } },
            {
                // One thread per client (concurrentPerform would run only as many as there are cores).
                let failures = ResultBox()
                let group = DispatchGroup()
                for index in 0..<8 {
                    group.enter()
                    Thread.detachNewThread {
                        failures.noteStart()
                        do { try clientTrace(index) } catch { failures.record(error) }
                        group.leave()
                    }
                }
                group.wait()
                spreads.append(failures.startSpread)
                if let error = failures.error { throw error }
            },
        ])
        let after = server.stats
        // The most co-batching can gain here: the same eight traces locally, one after another
        // or as eight invokes of one batched forward (no network, no server).
        func localReads(_ m: Envoy) throws {
            _ = try m.model.layers[3].output
            _ = try m.model.layers[layers - 1].output
        }
        let ceiling = try interleavedTimes(rounds: max(rounds / 3, 3), warmup: 1, unitNanoseconds: 1e6, [
            { for prompt in prompts { try local.trace(prompt) { m in try localReads(m) } } },
            { try local.trace { t in for prompt in prompts { try t.invoke(prompt) { m in try localReads(m) } } } },
        ])
        print(String(format: "the same 8 traces locally: one after another %.1f ms, one batched forward %.1f ms: %.2f× (the most batching gains on this machine)",
                     ceiling[0].median, ceiling[1].median, ceiling[0].median / ceiling[1].median))
        func milliseconds(_ duration: Duration) -> Double {
            Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1e3
        }
        print(String(format: "8 clients × 1 trace (2 reads): one after another %.1f ms, co-batched %.1f ms (batch window %.0f ms after the last arrival, at most %.0f ms): %.2f× faster (target ≥ 3×)",
                     batched[0].median, batched[1].median, milliseconds(configuration.batchWindow), milliseconds(configuration.maxBatchWait),
                     batched[0].median / batched[1].median))
        let forwards = Double(after.forwards - before.forwards)
        print("server: \(after.forwards - before.forwards) forwards for \(after.traces - before.traces) traces, \(after.sharedForwards - before.sharedForwards) shared, largest batch \(after.largestBatch)")
        print(String(format: "  the 8 client threads called trace within %.2f ms of each other (median of rounds); per forward, the server waited %.2f ms for companions (first trace queued → forward began) and ran %.1f ms (forward with its clients' round trips, against %.1f ms for the local batched forward)",
                     Timing(samples: spreads).median, (after.queuedSeconds - before.queuedSeconds) * 1e3 / forwards,
                     (after.runSeconds - before.runSeconds) * 1e3 / forwards, ceiling[1].median))
    }
}

/// The two handles the benchmark drives alike.
protocol Tracing {
    func traceIDs(_ ids: [Int], _ body: (Envoy) throws -> Void) throws
}

extension LanguageModel: Tracing {
    func traceIDs(_ ids: [Int], _ body: (Envoy) throws -> Void) throws { try trace(ids, body) }
}

extension RemoteModel: Tracing {
    func traceIDs(_ ids: [Int], _ body: (Envoy) throws -> Void) throws { try trace(ids, body) }
}

/// The first error of several threads.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var error: (any Error)?
    private var starts: [UInt64] = []
    /// A thread began its work now.
    func noteStart() {
        let now = DispatchTime.now().uptimeNanoseconds
        lock.lock()
        starts.append(now)
        lock.unlock()
    }
    /// Milliseconds from the first `noteStart()` to the last.
    var startSpread: Double {
        lock.lock()
        defer { lock.unlock() }
        return Double((starts.max() ?? 0) - (starts.min() ?? 0)) / 1e6
    }
    func record(_ error: any Error) {
        lock.lock()
        if self.error == nil { self.error = error }
        lock.unlock()
    }
}

/// Starts `background` in a task, then runs `body` and waits for its value on this thread.
private func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T,
                                   startingWith background: (@Sendable () async throws -> Void)? = nil) throws -> T {
    if let background { Task { try await background() } }
    let box = BlockingResult<T>()
    let done = DispatchSemaphore(value: 0)
    Task {
        box.result = await Result(awaiting: { try await body() })
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

private final class BlockingResult<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}

extension Result where Failure == any Error {
    init(awaiting body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
