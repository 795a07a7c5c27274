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

        // 1. One read against twelve: the per-read cost, remote and local.
        func reads(_ model: some Tracing, _ count: Int) throws {
            try model.traceIDs(ids) { m in
                for layer in (layers - count)..<layers { _ = try m.model.layers[layer].output }
            }
        }
        let shape = try local.trace(ids) { m in try m.model.layers[0].output.shape }
        let times = try interleavedTimes(rounds: rounds, warmup: 3, unitNanoseconds: 1e3, [
            { try reads(local, 1) }, { try reads(local, 12) }, { try reads(remote, 1) }, { try reads(remote, 12) },
        ])
        let localPerRead = (times[1].median - times[0].median) / 11
        let remotePerRead = (times[3].median - times[2].median) / 11
        print(String(format: "read of a %@ float32 value: local %.1f µs, remote %.1f µs per read; remote costs %.1f µs more (target ≤ 200)",
                     "\(shape)", localPerRead, remotePerRead, remotePerRead - localPerRead))
        print(String(format: "trace saving 12 layers: local %.2f ms, remote %.2f ms: remote/local %.2f× (target ≤ 1.5×)",
                     times[1].median / 1e3, times[3].median / 1e3, times[3].median / times[1].median))
        remote.close()

        // The floor: a round trip of a frame of the value's size over the same WebSocket stack,
        // no model, echoed by the server's reader task, or through a mailbox and a thread as the
        // server's invokes answer.
        let frame = try WireFrame.binary(WireMessage(kind: .value, trace: 1, invoke: 0),
                                         tensor: try local.trace(ids) { m in try m.model.layers[0].output })
        var floors: [Double] = []
        for echo in [WebSocketFloor.Echo.direct, .threaded] {
            let floor = try WebSocketFloor(echo: echo)
            let client = WebSocketFloor.Client(port: floor.port)
            let trip = try interleavedTimes(rounds: rounds, warmup: 3, inner: 20, unitNanoseconds: 1e3, [{ try client.roundTrip(frame) }])
            floors.append(trip[0].median)
            client.close()
            floor.stop()
        }
        print(String(format: "WebSocket round trip alone (a %d-byte frame each way, same stack, no model): %.1f µs echoed by the reader task, %.1f µs through a mailbox and a thread",
                     frame.count, floors[0], floors[1]))

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
        let batched = try interleavedTimes(rounds: max(rounds / 3, 3), warmup: 1, unitNanoseconds: 1e6, [
            { for index in 0..<8 { try sequentialTrace(index) } },
            {
                // One thread per client (concurrentPerform would run only as many as there are cores).
                let failures = ResultBox()
                let group = DispatchGroup()
                for index in 0..<8 {
                    group.enter()
                    Thread.detachNewThread {
                        do { try clientTrace(index) } catch { failures.record(error) }
                        group.leave()
                    }
                }
                group.wait()
                if let error = failures.error { throw error }
            },
        ])
        let after = server.stats
        let window = Double(configuration.batchWindow.components.attoseconds) / 1e15 + Double(configuration.batchWindow.components.seconds) * 1e3
        print(String(format: "8 clients × 1 trace (2 reads): one after another %.1f ms, co-batched %.1f ms (batch window %.0f ms): %.2f× faster (target ≥ 3×)",
                     batched[0].median, batched[1].median, window, batched[0].median / batched[1].median))
        print("server: \(after.forwards - before.forwards) forwards for \(after.traces - before.traces) traces, \(after.sharedForwards - before.sharedForwards) shared, largest batch \(after.largestBatch)")
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
