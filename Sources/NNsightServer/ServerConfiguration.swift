import Foundation
import NNsightRemote

/// How a server runs: where it listens, who may use it, how it batches.
public struct ServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port (read it from ``RemoteServer/port`` once running).
    public var port: Int
    /// nil: every client is accepted with the default limits (the server logs a warning).
    public var keys: APIKeys?
    /// The limits of clients when no key file is given, and of keys that name none.
    public var defaultLimits: KeyLimits
    /// When the model is idle, how long after the last trace arrived the server waits for
    /// another to join the batch (only while a connected client has no trace queued).
    public var batchWindow: Duration
    /// The longest a batch's first trace waits for companions (at least one `batchWindow`).
    public var maxBatchWait: Duration
    /// The most traces one batched forward takes.
    public var maxBatchTraces: Int
    /// How long the server waits for a client's next message while it holds the model.
    public var clientDeadline: Duration
    /// The largest frame accepted from a client.
    public var maxFrameBytes: Int
    /// How long a finished capture job's result is kept.
    public var captureRetention: Duration

    public init(host: String = "127.0.0.1", port: Int = 8000, keys: APIKeys? = nil,
                defaultLimits: KeyLimits = KeyLimits(), batchWindow: Duration = .milliseconds(2),
                maxBatchWait: Duration = .milliseconds(20), maxBatchTraces: Int = 32, clientDeadline: Duration = .seconds(30),
                maxFrameBytes: Int = RemoteProtocol.defaultMaxFrameBytes, captureRetention: Duration = .seconds(3600)) {
        self.host = host
        self.port = port
        self.keys = keys
        self.defaultLimits = defaultLimits
        self.batchWindow = batchWindow
        self.maxBatchWait = maxBatchWait
        self.maxBatchTraces = maxBatchTraces
        self.clientDeadline = clientDeadline
        self.maxFrameBytes = maxFrameBytes
        self.captureRetention = captureRetention
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
