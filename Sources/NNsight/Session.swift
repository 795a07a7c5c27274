extension InterleavedModel {
    /// Groups several traces. In Swift, values flow between traces and the code around them as
    /// ordinary variables, so a session only runs `body` and returns its value; it exists so that
    /// code ported from nnsight keeps its shape. Python: `with model.session():`.
    ///
    /// ```swift
    /// try model.session {
    ///     let hidden = try model.trace(a) { m in try m.layer1.output }
    ///     try model.trace(b) { m in try m.layer1.setOutput(hidden) }
    /// }
    /// ```
    public func session<T>(_ body: () throws -> T) rethrows -> T { try body() }
}
