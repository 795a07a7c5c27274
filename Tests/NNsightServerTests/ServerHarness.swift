import Foundation
import Logging
import NNsight
import NNsightRemote
import NNsightServer
import NNsightTorch
import Testing

/// The tiny GPT-2 checked in under Tests/Fixtures/models.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let tinyGPT2 = root.appendingPathComponent("models/tiny-gpt2").path

    static func localModel() throws -> LanguageModel {
        try Torch.setNumThreads(1)
        return try LanguageModel(path: tinyGPT2, dispatch: true)
    }
}

/// A real server on 127.0.0.1 and a free port, running for the length of `body` (which runs on
/// a thread of its own: remote traces block), then shut down.
func withServer<T: Sendable>(_ configuration: ServerConfiguration = ServerConfiguration(),
                             _ body: @escaping @Sendable (_ url: String, _ server: RemoteServer) throws -> T) async throws -> T {
    var configuration = configuration
    configuration.host = "127.0.0.1"
    configuration.port = 0
    var logger = Logger(label: "nnsight.serve.test")
    logger.logLevel = .warning
    let server = try RemoteServer(model: try Fixtures.localModel(), configuration: configuration, logger: logger)
    let running = Task { try await server.run() }
    do {
        let port = try await server.port
        let result = try await onThread { try body("ws://127.0.0.1:\(port)", server) }
        await server.shutDown()
        try await running.value
        return result
    } catch {
        await server.shutDown()
        _ = try? await running.value
        throw error
    }
}

/// Runs blocking code on a new thread and awaits its result.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try body() })
        }
    }
}

/// Runs `count` blocking bodies on threads at once; returns their results in order.
func concurrently<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) throws -> [Result<T, any Error>] {
    let results = ResultSlots<T>(count: count)
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        Thread.detachNewThread {
            results.set(Result { try body(index) }, at: index)
            group.leave()
        }
    }
    group.wait()
    return results.all
}

/// `count` clients, each on a connection of its own, start `body` together (so that their traces
/// meet in the server's batch window); their results in order. A client that cannot connect
/// still arrives at the start, so the others never wait for it.
func clientsTogether<T: Sendable>(_ count: Int, url: String,
                                  _ body: @escaping @Sendable (_ remote: RemoteModel, _ index: Int) throws -> T) throws -> [Result<T, any Error>] {
    let start = StartLine(count)
    return try concurrently(count) { index in
        let remote = Result { try RemoteModel(url: url) }
        start.arriveAndWait()
        return try body(remote.get(), index)
    }
}

/// `count` clients start `body` together (``clientsTogether(_:url:_:)``) on a server of their own
/// with `configuration`; their results in order, and the server's statistics once all finished.
func clientsTogether<T: Sendable>(_ count: Int, on configuration: ServerConfiguration,
                                  _ body: @escaping @Sendable (_ remote: RemoteModel, _ index: Int) throws -> T) async throws
    -> (results: [Result<T, any Error>], stats: ServerStatistics) {
    try await withServer(configuration) { url, server in
        let results = try clientsTogether(count, url: url, body)
        return (results, server.stats)
    }
}

final class ResultSlots<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<T, any Error>?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ result: Result<T, any Error>, at index: Int) {
        lock.lock()
        slots[index] = result
        lock.unlock()
    }
    var all: [Result<T, any Error>] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0! }
    }
}

/// A countdown that threads wait at until all have arrived (the clients of one test start their
/// traces together).
final class StartLine: @unchecked Sendable {
    private let condition = NSCondition()
    private var waiting: Int
    init(_ count: Int) { waiting = count }
    func arriveAndWait() {
        condition.lock()
        waiting -= 1
        if waiting == 0 { condition.broadcast() }
        while waiting > 0 { condition.wait() }
        condition.unlock()
    }
}

/// Expects one client's values from a shared forward to be its local ones: as many, of the same
/// shapes, integer values exact and float values equal to rounding (1e-4), as every value of a
/// shared forward.
func expectLocalValues(_ remote: [Tensor], _ local: [Tensor], client: Int,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(remote.count == local.count, "client \(client)", sourceLocation: sourceLocation)
    for (remote, local) in zip(remote, local) {
        #expect(remote.shape == local.shape, "client \(client)", sourceLocation: sourceLocation)
        if remote.dtype == .int64 {
            #expect(try remote.equal(local), "client \(client)", sourceLocation: sourceLocation)
        } else {
            #expect(try maxAbsDifference(remote, local) < 1e-4, "client \(client)", sourceLocation: sourceLocation)
        }
    }
}

func maxAbsDifference(_ a: Tensor, _ b: Tensor) throws -> Float {
    guard a.shape == b.shape else { return .infinity }
    return try (a - b).abs().max().item(Float.self)
}
