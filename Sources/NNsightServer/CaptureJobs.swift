import Foundation
import NNsight
import NNsightRemote
import NNsightSafeTensors
import NNsightTorch

/// Non-blocking capture jobs: the outputs of named modules over many prompts, recorded on the
/// server without the client (no round trips), kept as one safetensors file for a stated time.
/// They run on the model's thread when no trace waits. Python NDIF: a `remote=True, blocking=False`
/// job whose saved values are downloaded later.
// @unchecked: `jobs` only under `lock`; `run` (the model) only on the model's thread.
final class CaptureJobs: @unchecked Sendable {
    struct Job {
        let id: String
        let keyName: String
        let prompts: [[Int]]
        let paths: [String]
        var state: TraceState = .queued
        var result: Data?
        var error: String?
        var expires: Date?
    }

    private let lock = NSLock()
    private var jobs: [String: Job] = [:]
    /// How long a finished job's result is kept.
    let retention: Duration

    init(retention: Duration) {
        self.retention = retention
    }

    func add(_ job: Job) {
        lock.withLock {
            dropExpired()
            jobs[job.id] = job
        }
    }

    /// The job `id` of `keyName` (another key's jobs do not exist for it).
    func job(_ id: String, keyName: String) -> Job? {
        lock.withLock {
            dropExpired()
            guard let job = jobs[id], job.keyName == keyName else { return nil }
            return job
        }
    }

    private func dropExpired() {
        let now = Date()
        jobs = jobs.filter { $0.value.expires.map { $0 > now } ?? true }
    }

    /// Runs job `id` on the model (the model's thread calls this).
    func run(_ id: String, model: LanguageModel) {
        guard let job = lock.withLock({ () -> Job? in
            jobs[id]?.state = .running
            return jobs[id]
        }) else { return }
        var outcome: Result<Data, any Error>
        do {
            var writer = SafeTensorsWriter(metadata: ["format": "nnsight-capture", "prompts": "\(job.prompts.count)"])
            for (index, prompt) in job.prompts.enumerated() {
                let recorded = try model.trace(prompt) { _, tracer in
                    let modules = try job.paths.map { try model.root.resolve(wirePath: $0) }
                    return try tracer.cache(modules: modules)
                }
                for path in job.paths {
                    let value = try recorded[path].output.detach().to(device: .cpu).contiguous()
                    let bytes = try value.withUnsafeMutableBytes { Data($0) }
                    guard let dtype = SafeTensorsDType(wireName: WireFrame.wireName(value.dtype)) else {
                        throw RemoteError.protocolError(.server, "\(path) has dtype \(value.dtype), which safetensors cannot hold")
                    }
                    try writer.add("\(index).\(path)", dtype: dtype, shape: value.shape, bytes: bytes)
                }
            }
            outcome = .success(writer.serialized())
        } catch {
            outcome = .failure(error)
        }
        lock.withLock {
            switch outcome {
            case .success(let data):
                jobs[id]?.state = .completed
                jobs[id]?.result = data
            case .failure(let error):
                jobs[id]?.state = .error
                jobs[id]?.error = "\(error)"
            }
            jobs[id]?.expires = Date(timeIntervalSinceNow: retention.seconds)
        }
    }
}

extension SafeTensorsDType {
    /// The safetensors dtype of a wire dtype name.
    init?(wireName: String) {
        switch wireName {
        case "float32": self = .float32
        case "float16": self = .float16
        case "bfloat16": self = .bfloat16
        case "float64": self = .float64
        case "int64": self = .int64
        case "int32": self = .int32
        case "int16": self = .int16
        case "int8": self = .int8
        case "uint8": self = .uint8
        case "bool": self = .bool
        default: return nil
        }
    }
}
