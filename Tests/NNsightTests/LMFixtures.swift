import Foundation
import NNsightTorch
@testable import NNsight

/// Goldens from Python nnsight 0.8.1 (scripts/fixtures/gen_nnsight.py) and the models they ran on.
enum LMFixtures {
    static let fixtures = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let tinyGPT2Path = fixtures.appendingPathComponent("models/tiny-gpt2").path
    static let smolLMPath = fixtures.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".models/SmolLM2-135M-Instruct.Q4_1.gguf").path

    /// lm.json as nested dictionaries.
    nonisolated(unsafe) static let json: [String: Any] = {
        let data = try! Data(contentsOf: fixtures.appendingPathComponent("nnsight/lm.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    /// The value at a path of keys and indices, e.g. `["tiny_gpt2", "scenarios", "save"]`.
    static func value(_ path: [Any]) -> Any {
        path.reduce(json as Any) { node, key in
            if let key = key as? String { return (node as! [String: Any])[key]! }
            return (node as! [Any])[key as! Int]
        }
    }

    /// A stored `{"shape": [...], "data": [...]}` tensor.
    static func tensor(_ path: [Any]) throws -> Tensor {
        let stored = value(path) as! [String: Any]
        let shape = (stored["shape"] as! [NSNumber]).map(\.intValue)
        let data = (stored["data"] as! [NSNumber]).map(\.floatValue)
        return try Tensor(data, shape: shape)
    }

    static func double(_ path: [Any]) -> Double { (value(path) as! NSNumber).doubleValue }
    static func int(_ path: [Any]) -> Int { (value(path) as! NSNumber).intValue }
    static func ints(_ path: [Any]) -> [Int] { (value(path) as! [NSNumber]).map(\.intValue) }
}

/// One tiny GPT-2 per test (tests run in parallel; each loads its own ~1 MB checkpoint).
func tinyGPT2() throws -> LanguageModel {
    try Torch.setNumThreads(1)
    return try LanguageModel(path: LMFixtures.tinyGPT2Path)
}

/// SmolLM2 is loaded once for all its tests (traces of one model take turns).
enum SmolLM {
    /// An NSLock (a pthread mutex) rather than a `Synchronization.Mutex`: on Linux a contended
    /// `Mutex` is handed to the waiter by the kernel (a priority-inheriting futex), a hand-over
    /// ThreadSanitizer cannot see, so it reported two tests loading the model at once as a race.
    private static let lock = NSLock()
    /// Written once, under `lock`.
    nonisolated(unsafe) private static var cached: Result<UncheckedModel, any Error>?

    private struct UncheckedModel: @unchecked Sendable { let model: LanguageModel }

    static func model() throws -> LanguageModel {
        lock.lock()
        defer { lock.unlock() }
        if cached == nil {
            cached = Result {
                try Torch.setNumThreads(1)
                return UncheckedModel(model: try LanguageModel(path: LMFixtures.smolLMPath, dispatch: true))
            }
            atexit { SmolLM.release() }
        }
        return try cached!.get().model
    }

    /// Drops the model when the test process exits (`atexit` handlers run in reverse order, so
    /// this runs before LeakSanitizer's check in `scripts/sanitize address`). A model alive at
    /// exit is reported as leaked although it is not: LeakSanitizer's scan cannot follow the
    /// pointers Swift encodes (a weak reference's side table is known to its object only through
    /// the refcount word, shifted; an enum payload's pointer carries the case in its spare bits),
    /// so the hook side tables of its ~390 modules and its checkpoint's `.gguf(file:)` URL looked
    /// unreachable. Released, everything it owned must be freed, or LeakSanitizer reports it.
    private static func release() {
        lock.lock()
        defer { lock.unlock() }
        cached = nil
    }
}
