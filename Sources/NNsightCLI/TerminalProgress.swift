import Foundation

/// TerminalProgress lines for long work (loading a checkpoint, a patching sweep, a generation), drawn on
/// standard error when it is a terminal and silent when it is piped or redirected.
struct TerminalProgress {
    let isShown: Bool

    init(isShown: Bool = isatty(STDERR_FILENO) != 0) { self.isShown = isShown }

    /// Replaces the current progress line with `text`.
    func update(_ text: String) {
        guard isShown else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + text).utf8))
    }

    /// Clears the progress line.
    func clear() {
        guard isShown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    /// Runs `work` with "text…" shown, then clears it.
    func during<T>(_ text: String, _ work: () throws -> T) rethrows -> T {
        update(text + "…")
        defer { clear() }
        return try work()
    }
}
