import Foundation

/// Runs a Python reference benchmark (a script under Benchmarks/python) and decodes the JSON
/// object it prints last.
enum Reference {
    /// The package root, found from this file's location.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// The default model, unpacked by scripts/setup.
    static let smolLM2Path = root.appendingPathComponent(".models/SmolLM2-135M-Instruct.Q4_1.gguf").path

    static func run<T: Decodable>(_ script: String, arguments: [String] = [], as type: T.Type) throws -> T {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent("Benchmarks/python/\(script)").path] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OMP_NUM_THREADS"] = "1"
        environment["MKL_NUM_THREADS"] = "1"
        environment["RAYON_NUM_THREADS"] = "1"
        environment["TOKENIZERS_PARALLELISM"] = "false"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ReferenceError(message: "python3 \(script) exited with status \(process.terminationStatus)")
        }
        let lastLine = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        return try JSONDecoder().decode(T.self, from: Data(lastLine.utf8))
    }
}

struct ReferenceError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Nanoseconds per call of `body`, best of three rounds after a warm-up.
func nanosecondsPerCall(iterations: Int, _ body: () throws -> Void) rethrows -> Double {
    for _ in 0..<1000 { try body() }
    var best = Double.infinity
    for _ in 0..<3 {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations { try body() }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start)
        best = min(best, elapsed / Double(iterations))
    }
    return best
}
