internal import CNNsightTorch
import Foundation

/// Library-wide settings of libtorch: threads, seeds, versions, grad mode.
public enum Torch {
    /// The libtorch version the shim was compiled against.
    public static var compiledVersion: String { String(cString: ctorch_compiled_version()) }

    /// The libtorch version loaded at run time.
    public static var runtimeVersion: String { String(cString: ctorch_runtime_version()) }

    /// Checks, once, that the libtorch loaded at run time is the one the shim was built against.
    /// Every tensor-creating function calls it, so a mismatch surfaces as a clear error at the
    /// first tensor rather than as a crash in some op.
    public static func checkRuntime() throws(TorchError) {
        if let failure = runtimeMismatch { throw failure }
    }

    private static let runtimeMismatch: TorchError? = {
        let compiled = compiledVersion
        let runtime = runtimeVersion
        guard compiled == runtime else {
            return TorchError(
                .libraryMismatch,
                "swift-nnsight was built against libtorch \(compiled) but loaded libtorch \(runtime.isEmpty ? "(unknown version)" : runtime); run scripts/setup and rebuild"
            )
        }
        return nil
    }()

    /// Python: `torch.set_num_threads(n)`. Intra-op threads; tests and benchmarks here use 1.
    public static func setNumThreads(_ count: Int) throws(TorchError) {
        try check(ctorch_set_num_threads(Int32(clamping: count)))
    }

    /// Python: `torch.get_num_threads()`.
    public static var numThreads: Int { Int(ctorch_get_num_threads()) }

    /// Python: `torch.manual_seed(seed)`: seeds the default generator.
    public static func manualSeed(_ seed: UInt64) throws(TorchError) {
        try withDefaultGenerator { () throws(TorchError) in try check(ctorch_manual_seed(seed)) }
    }

    /// Runs `body` as one step on libtorch's default generator: no other thread seeds it or draws
    /// from it meanwhile, so a `manualSeed` and the draws after it give the same values whatever
    /// other threads run (each draw alone is already safe; this makes the sequence atomic).
    /// Draws made inside `body` on this thread proceed. Python has no counterpart: there the
    /// global seed is shared with every thread without any guard.
    ///
    ///     let noise = try Torch.withDefaultGenerator {
    ///         try Torch.manualSeed(7)
    ///         return try Tensor.randn([2, 5])
    ///     }
    public static func withDefaultGenerator<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        Generator.defaultGeneratorLock.lock()
        defer { Generator.defaultGeneratorLock.unlock() }
        return try body()
    }

    /// Python: `torch.cuda.is_available()`.
    public static var cudaIsAvailable: Bool { ctorch_cuda_is_available() }

    /// Python: `torch.is_grad_enabled()`.
    public static var isGradEnabled: Bool { ctorch_is_grad_enabled() }

    /// Runs `body` with gradient recording off on this thread. Python: `with torch.no_grad():`.
    public static func noGrad<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        try withGradEnabled(false, body)
    }

    /// Runs `body` with gradient recording set to `enabled` on this thread, restoring it after.
    public static func withGradEnabled<T, E: Error>(_ enabled: Bool, _ body: () throws(E) -> T) throws(E) -> T {
        let previous = ctorch_set_grad_enabled(enabled)
        defer { _ = ctorch_set_grad_enabled(previous) }
        return try body()
    }
}

/// A seeded random-number generator (Python: `torch.Generator().manual_seed(seed)`).
///
/// May be shared between threads: every draw from it holds its lock (libtorch's generators are
/// not thread-safe by themselves), which is what earns the `@unchecked Sendable`.
public final class Generator: @unchecked Sendable {
    private let handle: ctorch_generator
    private let lock = NSLock()
    /// Held around every seeding of and draw from libtorch's default generator (recursive, so
    /// that ``Torch/withDefaultGenerator(_:)`` can hold it across a seed and its draws).
    static let defaultGeneratorLock = NSRecursiveLock()

    /// The shim fails only when its few bytes cannot be allocated, and then this stops the
    /// program, as Swift itself does when it cannot allocate an object.
    public init(seed: UInt64) {
        var out: ctorch_generator?
        let status = ctorch_generator_new(seed, &out)
        guard status == CTORCH_OK, let out else { fatalError("\(TorchError.last(status))") }
        handle = out
    }

    deinit { ctorch_generator_free(handle) }

    /// Runs `body` with the generator's handle (nil for libtorch's default generator), holding the
    /// generator's lock (the default generator's for nil) and keeping it alive meanwhile.
    static func drawing<T>(from generator: Generator?,
                           _ body: (ctorch_generator?) throws(TorchError) -> T) throws(TorchError) -> T {
        guard let generator else { return try Torch.withDefaultGenerator { () throws(TorchError) in try body(nil) } }
        generator.lock.lock()
        defer { generator.lock.unlock() }
        return try withExtendedLifetime(generator) { () throws(TorchError) in try body(generator.handle) }
    }
}
