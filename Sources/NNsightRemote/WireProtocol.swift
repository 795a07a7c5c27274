import Foundation
import NNsight
import NNsightNN

/// The versions a client and a server exchange in their hello; a mismatch of the protocol
/// version is refused with both versions named. The wire format is documented in
/// docs/remote-protocol.md.
public enum RemoteProtocol {
    /// Bumped on every incompatible change of the messages below.
    /// 2: generation (`trace.generation`, `step`, `result`, tracer-wide `next`), caches
    /// (`cache`, `cached`), barriers (`barrier`), scans (`trace.scan`, meta tensor frames).
    /// 3: `.source` operation paths, module listings in the welcome's tree (`source`), streamed
    /// tokens (`trace.stream`, `tokens`), a real skip for a trace alone in its forward, a run's
    /// engine error in its final `status` (`engineError`).
    public static let version = 3
    /// The version of this library (swift-nnsight).
    public static let libraryVersion = "0.1.0"
    /// The WebSocket path of a session.
    public static let sessionPath = "/v1/session"
    /// The largest frame either side accepts by default (64 MiB).
    public static let defaultMaxFrameBytes = 64 << 20
}

/// What a message is. Client → server: `hello`, `trace`, `read`, `write`, `next`, `apply`,
/// `finished`, `failed`, `cancel`. Server → client: `welcome`, `status`, `start`, `value`,
/// `ack`, `error`.
public enum MessageKind: String, Codable, Sendable {
    case hello, trace, read, write, next, apply, finished, failed, cancel
    case welcome, status, start, value, ack, error
    /// C→S: a capture job (`texts`, `paths`); S→C `status` with its `job` id.
    case capture
    /// C→S: ask for a capture job's result (`job`); S→C `status`, or a `value` frame holding the
    /// safetensors file as a uint8 tensor.
    case fetch
    /// C→S: begin generation step `step` (one turn of `tracer.iter`); answered with `ack`, whose
    /// `began` is false when the run ended before that step.
    case step
    /// C→S: the run's result for the invoke's rows (`tracer.result()`); answered with `value`.
    case result
    /// C→S: start a cache (`cache` id, `paths` or every module, `includeInputs`,
    /// `includeOutputs`); answered with `ack`. The values arrive as `cached` frames at the end.
    case cache
    /// S→C (binary): one recorded value of a cache (`cache`, `path`, `key`), sent in call order
    /// after the run and before the trace's `completed` status.
    case cached
    /// C→S: wait at barrier `barrier` with `count` participants; answered with `ack` once all arrived.
    case barrier
    /// S→C: one generation step's chosen tokens (`step`, `tokens`), for a trace that asked for
    /// them with `stream`; sent as the step ends, before the next begins.
    case tokens
}

/// Which value of a module an access is about.
public enum WireValueKey: String, Codable, Sendable {
    case output, input, skip
}

/// How a written tensor is applied: `replace` (`setOutput`, `setInput`, `skip`), or `inPlace`
/// (the closure changed the value it read; the server copies the new contents into it).
public enum WriteMode: String, Codable, Sendable {
    case replace, inPlace
}

/// A trace's place on the server. Python NDIF: the job status events.
public enum TraceState: String, Codable, Sendable {
    case queued, running, completed, error
}

/// The typed errors of the protocol, sent in an `error` message with a human-readable text.
public enum RemoteErrorCode: String, Codable, Sendable {
    /// The hello's protocol version differs from the server's.
    case versionMismatch
    /// A missing or unknown API key.
    case unauthorized
    /// A frame that is not a valid message (bad JSON, truncated, wrong tensor bytes).
    case malformedFrame
    /// A message out of place (a trace before the hello, an access for an invoke not running).
    case unexpectedMessage
    /// A module path the model does not have.
    case unknownModule
    /// A written tensor whose dtype or shape differs from the value it replaces.
    case tensorMismatch
    /// A frame, a prompt or a response over the key's limits.
    case limitExceeded
    /// The client did not answer within the server's deadline; its trace was cancelled.
    case deadlineExceeded
    /// The trace was cancelled (by the client, or because the connection closed).
    case cancelled
    /// The intervention engine refused an access (out of order, missed, …); `engine` names it.
    case engine
    /// A tensor operation failed on the server (libtorch's message).
    case torch
    /// Anything else that went wrong on the server while running the model.
    case server
}

/// One message. JSON in a text frame, or the header of a binary frame that carries a tensor.
/// Fields that do not apply to a message's kind are absent.
public struct WireMessage: Codable, Sendable {
    public var kind: MessageKind
    /// The client's trace number (`trace`, accesses, `status`, `start`, `value`, `ack`, `error`).
    public var trace: Int?
    /// The invoke within the trace (0-based, in the order the client opened them).
    public var invoke: Int?
    /// A module path as the envoys name it (`model.transformer.h.0.mlp`).
    public var path: String?
    public var key: WireValueKey?
    public var mode: WriteMode?
    /// `next`: how many calls to move on.
    public var count: Int?

    // hello / welcome
    public var protocolVersion: Int?
    public var libraryVersion: String?
    public var apiKey: String?
    /// `welcome`: the model's module tree.
    public var model: ModuleNode?
    /// `welcome`: the server's limits for this key.
    public var limits: KeyLimits?

    // trace
    public var invokes: [InvokeInput]?
    /// `trace`: run as a generation with these settings (absent: one forward pass).
    public var generation: GenerationRequest?
    /// `trace`: run on the meta device (`scan`): values carry shape and dtype only.
    public var scan: Bool?
    /// `trace` of a generation: stream each step's chosen tokens (`tokens` messages).
    public var stream: Bool?
    /// `tokens`: the step's tokens of this trace's rows (rows numbered within the trace).
    public var tokens: [StreamedToken]?

    // step / cache / barrier
    /// `step`: the generation step to begin.
    public var step: Int?
    /// `ack` of a `step`: whether the step began (false: the run ended first).
    public var began: Bool?
    /// `cache` / `cached`: the client's number for the cache within its trace.
    public var cache: Int?
    /// `cache`: record inputs too / record outputs.
    public var includeInputs: Bool?
    public var includeOutputs: Bool?
    /// `barrier`: the client's number for the barrier within its trace.
    public var barrier: Int?
    /// `finished`: the closure called `stop()` (the server ends the run there when the trace
    /// has the forward to itself).
    public var stopped: Bool?

    // capture / fetch
    /// The prompts of a capture job.
    public var texts: [String]?
    /// Module paths to capture (their outputs).
    public var paths: [String]?
    /// A capture job's id.
    public var job: String?
    /// Seconds a finished capture's result is kept.
    public var keptForSeconds: Int?

    // status
    public var state: TraceState?
    /// `status` while queued: how many traces run or wait before this one (0: next).
    public var position: Int?
    /// `status` when running: how many traces share the batched forward.
    public var sharedWith: Int?

    // error / failed
    public var code: RemoteErrorCode?
    /// `error` with code `engine`: the engine's error, to raise it as the same type locally.
    public var engineError: EngineErrorPayload?
    public var message: String?

    /// A binary frame's tensor: its dtype and shape (the raw bytes follow the header).
    public var tensor: TensorHeader?

    public init(kind: MessageKind, trace: Int? = nil, invoke: Int? = nil) {
        self.kind = kind
        self.trace = trace
        self.invoke = invoke
    }

    public static func error(_ code: RemoteErrorCode, _ message: String, trace: Int? = nil, invoke: Int? = nil) -> WireMessage {
        var error = WireMessage(kind: .error, trace: trace, invoke: invoke)
        error.code = code
        error.message = message
        return error
    }
}

/// The input of one invoke: text prompts, token rows, or nothing (a prompt-less invoke, which
/// covers the rows of its own trace's other invokes).
public struct InvokeInput: Codable, Sendable, Equatable {
    public var texts: [String]?
    public var tokens: [[Int]]?

    public init(texts: [String]? = nil, tokens: [[Int]]? = nil) {
        self.texts = texts
        self.tokens = tokens
    }

    public var hasInput: Bool { texts != nil || tokens != nil }
}

/// The limits a key runs under (absent fields: the server's defaults).
public struct KeyLimits: Codable, Sendable, Equatable {
    /// Traces of this key queued or running at once.
    public var concurrentTraces: Int
    /// The largest value frame sent back to this key.
    public var responseBytes: Int
    /// Tokens over all invokes of one trace.
    public var promptTokens: Int
    /// New tokens one generation may ask for.
    public var newTokens: Int

    public init(concurrentTraces: Int = 4, responseBytes: Int = 16 << 20, promptTokens: Int = 4096, newTokens: Int = 1024) {
        self.concurrentTraces = concurrentTraces
        self.responseBytes = responseBytes
        self.promptTokens = promptTokens
        self.newTokens = newTokens
    }

    enum CodingKeys: String, CodingKey { case concurrentTraces, responseBytes, promptTokens, newTokens }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = KeyLimits()
        concurrentTraces = try container.decodeIfPresent(Int.self, forKey: .concurrentTraces) ?? defaults.concurrentTraces
        responseBytes = try container.decodeIfPresent(Int.self, forKey: .responseBytes) ?? defaults.responseBytes
        promptTokens = try container.decodeIfPresent(Int.self, forKey: .promptTokens) ?? defaults.promptTokens
        newTokens = try container.decodeIfPresent(Int.self, forKey: .newTokens) ?? defaults.newTokens
    }
}

/// An intervention-engine error as data, so the client raises the same `NNsightError` (or, for
/// code `torch`, the `TorchError` kind in `name`).
public struct EngineErrorPayload: Codable, Sendable, Equatable {
    public var name: String
    public var requester: String?
    public var path: String?
    /// `barrierNeverReached`: the participants expected and arrived; `invalidInput`: the reason.
    public var expected: Int?
    public var arrived: Int?
    public var reason: String?

    public init(name: String, requester: String? = nil, path: String? = nil,
                expected: Int? = nil, arrived: Int? = nil, reason: String? = nil) {
        self.name = name
        self.requester = requester
        self.path = path
        self.expected = expected
        self.arrived = arrived
        self.reason = reason
    }
}

/// How a remote trace generates: the settings of `generate(maxNewTokens:sampling:stopAtEOS:)`.
public struct GenerationRequest: Codable, Sendable, Hashable {
    public var maxNewTokens: Int
    public var stopAtEOS: Bool
    /// Sampling (0: greedy), as in `SamplingOptions`.
    public var temperature: Double
    public var topK: Int?
    public var topP: Double?
    public var seed: UInt64?

    public init(maxNewTokens: Int, stopAtEOS: Bool, temperature: Double = 0, topK: Int? = nil,
                topP: Double? = nil, seed: UInt64? = nil) {
        self.maxNewTokens = maxNewTokens
        self.stopAtEOS = stopAtEOS
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
    }
}

/// One module of the model's tree, as the server describes it at connect.
public struct ModuleNode: Codable, Sendable, Equatable {
    /// The child's name under its parent (`h`, `0`, `attn`; empty for the root).
    public var name: String
    /// The printed type (`GPT2Block`, `ModuleList`).
    public var typeName: String
    /// What the module prints inside its parentheses (`in_features=64, out_features=64, bias=True`).
    public var extra: String
    public var children: [ModuleNode]
    /// The listing of the module's marked (`@Sourced`) forward, absent for an unmarked one: the
    /// client's `envoy.source` prints it and names its operations from it.
    public var source: SourceListing?

    public init(name: String, typeName: String, extra: String, children: [ModuleNode], source: SourceListing? = nil) {
        self.name = name
        self.typeName = typeName
        self.extra = extra
        self.children = children
        self.source = source
    }
}

/// Two messages are equal when every field is (the hand-written JSON of access messages relies
/// on it to know that a message carries nothing else).
extension WireMessage: Equatable {}
