import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Headless Chromium driven over the Chrome DevTools protocol through a pipe
/// (`--remote-debugging-pipe`: commands on the browser's fd 3, replies on its fd 4, each JSON
/// message ended by a NUL byte). Every wait is bounded by a deadline.
final class Chromium: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    private let pid: pid_t
    private let commands: Int32
    private let replies: Int32
    private let profile: URL
    private var buffer: [UInt8] = []
    private var nextId = 1

    /// `chromium` on PATH, or nil.
    static var executable: String? {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(folder)/chromium"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    init() throws {
        guard let executable = Chromium.executable else {
            throw Failure("chromium is not installed: run scripts/install-chromium (as .ci/run does)")
        }
        profile = FileManager.default.temporaryDirectory.appendingPathComponent("nnsight-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        var toBrowser: [Int32] = [0, 0], fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw Failure("pipe() failed: errno \(errno)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toBrowser[0], 3)
        posix_spawn_file_actions_adddup2(&actions, fromBrowser[1], 4)
        posix_spawn_file_actions_addclose(&actions, toBrowser[1])
        posix_spawn_file_actions_addclose(&actions, fromBrowser[0])
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let arguments = [
            executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--remote-debugging-pipe",
            "--user-data-dir=\(profile.path)", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--hide-scrollbars", "--mute-audio", "--window-size=1280,900", "about:blank",
        ]
        var argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, nil, &argv, environ)
        close(toBrowser[0])
        close(fromBrowser[1])
        guard status == 0 else {
            close(toBrowser[1])
            close(fromBrowser[0])
            throw Failure("could not start \(executable): posix_spawn returned \(status)")
        }
        pid = child
        commands = toBrowser[1]
        replies = fromBrowser[0]
    }

    deinit {
        _ = try? send("Browser.close", timeout: 5)
        close(commands)
        close(replies)
        var status: Int32 = 0
        for _ in 0..<50 {
            if waitpid(pid, &status, WNOHANG) == pid { break }
            usleep(100_000)
        }
        if waitpid(pid, &status, WNOHANG) == 0 {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
        try? FileManager.default.removeItem(at: profile)
    }

    /// Sends one command (to the browser, or to a page's `session`) and returns its result.
    @discardableResult
    func send(_ method: String, _ parameters: [String: Any] = [:], session: String? = nil,
              timeout: TimeInterval = 30) throws -> [String: Any] {
        let id = nextId
        nextId += 1
        var message: [String: Any] = ["id": id, "method": method, "params": parameters]
        if let session { message["sessionId"] = session }
        var bytes = [UInt8](try JSONSerialization.data(withJSONObject: message))
        bytes.append(0)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(commands, $0.baseAddress, $0.count) }
            guard count > 0 else { throw Failure("writing to chromium failed: errno \(errno)") }
            written += count
        }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let reply = try readMessage(until: deadline, waitingFor: method)
            guard reply["id"] as? Int == id else { continue }    // events and other replies
            if let error = reply["error"] as? [String: Any] {
                throw Failure("\(method) failed: \(error["message"] ?? error)")
            }
            return reply["result"] as? [String: Any] ?? [:]
        }
    }

    private func readMessage(until deadline: Date, waitingFor method: String) throws -> [String: Any] {
        while true {
            if let end = buffer.firstIndex(of: 0) {
                let data = Data(buffer[..<end])
                buffer.removeSubrange(...end)
                guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { continue }
                return object
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw Failure("chromium did not answer \(method) in time") }
            var descriptor = pollfd(fd: replies, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining, 1) * 1000))
            guard ready >= 0 || errno == EINTR else { throw Failure("poll failed: errno \(errno)") }
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { read(replies, $0.baseAddress, $0.count) }
            guard count > 0 else { throw Failure("chromium closed the pipe while \(method) was pending") }
            buffer += chunk[..<count]
        }
    }

    /// A new tab at `url`, loaded.
    func open(_ url: String) throws -> Tab {
        let target = try send("Target.createTarget", ["url": "about:blank"])
        guard let targetId = target["targetId"] as? String else { throw Failure("no target id in \(target)") }
        let attached = try send("Target.attachToTarget", ["targetId": targetId, "flatten": true])
        guard let session = attached["sessionId"] as? String else { throw Failure("no session id in \(attached)") }
        let tab = Tab(browser: self, session: session)
        try tab.navigate(url)
        return tab
    }

    /// One page, addressed through its session.
    final class Tab: @unchecked Sendable {
        let browser: Chromium
        let session: String

        init(browser: Chromium, session: String) {
            self.browser = browser
            self.session = session
        }

        func navigate(_ url: String) throws {
            try browser.send("Page.navigate", ["url": url], session: session)
            try waitUntil("document.readyState === 'complete'", timeout: 30)
        }

        /// The value of a JavaScript expression (JSON-serialisable values only).
        func evaluate(_ expression: String) throws -> Any? {
            let reply = try browser.send("Runtime.evaluate", ["expression": expression, "returnByValue": true], session: session)
            if let exception = reply["exceptionDetails"] as? [String: Any] {
                throw Failure("JavaScript failed: \(exception["text"] ?? "") \((exception["exception"] as? [String: Any])?["description"] ?? "")")
            }
            return (reply["result"] as? [String: Any])?["value"]
        }

        /// A JavaScript expression's value as a string.
        func string(_ expression: String) throws -> String {
            guard let value = try evaluate(expression) as? String else { throw Failure("\(expression) is not a string") }
            return value
        }

        /// Polls until `condition` (JavaScript) is true, at most `timeout` seconds.
        func waitUntil(_ condition: String, timeout: TimeInterval = 60) throws {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if try evaluate("Boolean(\(condition))") as? Bool == true { return }
                usleep(50_000)
            }
            throw Failure("timed out after \(timeout) s waiting for: \(condition)")
        }

        /// Saves a PNG of the whole page.
        func screenshot(to file: URL) throws {
            // A tab in the background may never paint the frame a screenshot waits for.
            try browser.send("Page.bringToFront", session: session)
            let size = try evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]") as? [Any]
            let width = (size?.first as? NSNumber)?.doubleValue ?? 1280, height = (size?.last as? NSNumber)?.doubleValue ?? 900
            let shot = try browser.send("Page.captureScreenshot", [
                "format": "png", "captureBeyondViewport": true,
                "clip": ["x": 0, "y": 0, "width": width, "height": height, "scale": 1],
            ], session: session, timeout: 60)
            guard let base64 = shot["data"] as? String, let data = Data(base64Encoded: base64) else {
                throw Failure("no screenshot data")
            }
            try data.write(to: file)
        }
    }
}

/// Runs blocking work (the browser driver) on a thread of its own, off Swift's cooperative pool,
/// so that the workbench's server tasks in the same process keep running.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 4 << 20
        thread.start()
    }
}

/// Where screenshots go: a folder under the system's temporary directory, printed by the tests.
func screenshotFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nnsight-screenshots")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}
