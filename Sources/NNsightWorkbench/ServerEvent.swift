/// One server-sent event (`text/event-stream`) of a workbench job.
public enum ServerEvent: Sendable, Equatable {
    /// A picture (an `<svg>` element) that replaces the one shown.
    case picture(String)
    /// A line of progress ("layer 3 of 30").
    case status(String)
    /// What was wrong with the request or the run; the job ends.
    case error(String)
    /// The job finished.
    case done

    /// The event in the wire format: `event:` then one `data:` line per line of the payload.
    public var encoded: String {
        let (name, payload): (String, String)
        switch self {
        case .picture(let svg): (name, payload) = ("picture", svg)
        case .status(let text): (name, payload) = ("status", text)
        case .error(let text): (name, payload) = ("failure", text)
        case .done: (name, payload) = ("done", "")
        }
        // "\r\n" is one Character in Swift: normalise every line break before splitting.
        let lines = payload.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false).map { "data: " + $0 }
        return "event: \(name)\n" + lines.joined(separator: "\n") + "\n\n"
    }
}
