import Foundation
import NNsightModels
import NNsightNN
import NNsightTorch

/// The model families `nnsight-bench models` measures beside GPT-2 and SmolLM2: one random-weight
/// checkpoint per family shape, made by transformers at bench time
/// (Benchmarks/python/make_bench_models.py, into `.build/bench-models/`; never committed), so that
/// both sides load the very same safetensors files.
enum FamilyShapes {
    /// The shapes, in the order they run (make_bench_models.py's names).
    static let all = ["gpt-neox", "gemma2", "qwen3", "olmo2", "phi3", "mixtral"]

    /// Where the checkpoints are written (ignored by git with the rest of `.build`).
    static let folder = Reference.root.appendingPathComponent(".build/bench-models").path

    /// Makes (or finds, when already made with the same config) the checkpoints of `shapes`:
    /// shape → folder.
    static func checkpoints(_ shapes: [String]) throws -> [String: String] {
        try Reference.run("make_bench_models.py", arguments: ["--out", folder] + shapes, as: [String: String].self)
    }
}

/// Peak resident memory while loading a checkpoint, from Linux's `/proc/self/status`: the
/// high-water mark (`VmHWM`) is reset to the current RSS first (`/proc/self/clear_refs` ← 5), so
/// the peak is this load's, whatever ran before.
struct LoadMemory {
    /// RSS right before the load (MiB).
    var before: Double
    /// The peak RSS during the load (MiB).
    var peak: Double
    /// RSS once loaded (MiB).
    var after: Double
    /// Bytes of the loaded model's weights (each parameter once).
    var weightBytes: Int
    /// Whether the peak is this load's own (false: the high-water mark could not be reset or
    /// /proc/self/status not read; the check then fails rather than pass on a stale figure).
    var peakIsOwn: Bool

    /// Growth of RSS from before the load to its peak, over the weights' bytes.
    var ratio: Double { (peak - before) * 1_048_576 / Double(max(weightBytes, 1)) }

    /// Loads the checkpoint at `path` (memory-mapped safetensors) measuring RSS around it.
    static func measuring(path: String) throws -> (model: any CausalLanguageModel, memory: LoadMemory) {
        let reset = resetPeakRSS()
        let before = statusMiB("VmRSS")
        let sampler = RSSSampler()
        let model = try NNsightModels.load(path: path).model
        let sampled = sampler.stop()
        // The kernel's high-water mark is updated lazily (and not when pages are given back with
        // madvise), so the sampled maximum stands beside it: the peak is the larger.
        let hwm = statusMiB("VmHWM"), after = statusMiB("VmRSS")
        let peak = hwm.map { max($0, sampled) }
        let peakIsOwn = reset && before != nil && peak != nil
        let bytes = model.namedParameters().reduce(0) { $0 + $1.parameter.count * $1.parameter.dtype.byteCount }
        return (model, LoadMemory(before: before ?? 0, peak: peak ?? 0, after: after ?? 0, weightBytes: bytes,
                                  peakIsOwn: peakIsOwn))
    }

    /// `VmRSS`/`VmHWM` of /proc/self/status in MiB (nil off Linux).
    static func statusMiB(_ field: String) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            let number = line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first
                .flatMap { Double($0) }
            return number.map { $0 / 1024 }  // kB
        }
        return nil
    }

    /// Resets the peak-RSS high-water mark to the current RSS (Linux ≥ 4.0).
    static func resetPeakRSS() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        return (try? handle.write(contentsOf: Data("5".utf8))) != nil
    }
}

/// Samples this process's RSS (`/proc/self/statm`) every half millisecond on a thread of its own
/// until ``stop()``, which returns the largest sample in MiB.
final class RSSSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var running = true
    private var peakPages = 0
    private let done = DispatchSemaphore(value: 0)
    private let pageSize = Double(max(sysconf(Int32(_SC_PAGESIZE)), 1))

    init() {
        let thread = Thread { [self] in
            while lock.withLock({ running }) {
                if let pages = Self.residentPages() { lock.withLock { peakPages = max(peakPages, pages) } }
                usleep(500)
            }
            done.signal()
        }
        thread.start()
    }

    func stop() -> Double {
        lock.withLock { running = false }
        done.wait()
        if let pages = Self.residentPages() { lock.withLock { peakPages = max(peakPages, pages) } }
        return lock.withLock { Double(peakPages) } * pageSize / 1_048_576
    }

    /// The second field of /proc/self/statm: resident pages.
    private static func residentPages() -> Int? {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = statm.split(separator: " ")
        return fields.count > 1 ? Int(fields[1]) : nil
    }
}
