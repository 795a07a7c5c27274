import Foundation

/// The process's thread count and resident memory, read from the operating system.
public struct ProcessStats: Sendable, Equatable {
    /// Threads of this process (Linux: `Threads:` in /proc/self/status).
    public var threads: Int
    /// Resident set size in bytes (Linux: `VmRSS:` in /proc/self/status).
    public var residentBytes: Int

    /// The current figures, or nil where the platform offers no /proc (macOS).
    public static func current() -> ProcessStats? {
        #if os(Linux)
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        var threads: Int?, resident: Int?
        for line in status.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 2 else { continue }
            switch parts[0] {
            case "Threads:": threads = Int(parts[1])
            case "VmRSS:": resident = Int(parts[1]).map { $0 * 1024 }  // reported in kB
            default: break
            }
        }
        guard let threads, let resident else { return nil }
        return ProcessStats(threads: threads, residentBytes: resident)
        #else
        return nil
        #endif
    }
}
