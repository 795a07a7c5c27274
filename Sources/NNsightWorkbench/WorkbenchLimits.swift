/// What the workbench accepts, so that one request cannot hold the model for long.
public struct WorkbenchLimits: Sendable, Equatable {
    /// The most tokens a prompt may have.
    public var maxPromptTokens: Int
    /// The most patched runs one sweep may take (layers × positions).
    public var maxPatchedRuns: Int
    /// The most new tokens one generation may ask for.
    public var maxNewTokens: Int

    public init(maxPromptTokens: Int = 64, maxPatchedRuns: Int = 2048, maxNewTokens: Int = 200) {
        self.maxPromptTokens = maxPromptTokens
        self.maxPatchedRuns = maxPatchedRuns
        self.maxNewTokens = maxNewTokens
    }
}

/// A request the workbench refuses, with the message shown on the page.
struct RequestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
