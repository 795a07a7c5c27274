/// Printing a module tree as PyTorch does, e.g.
///
/// ```
/// GPT2Block(
///   (ln_1): LayerNorm((768,), eps=1e-05, elementwise_affine=True)
///   (attn): GPT2Attention(
///     (c_attn): Conv1D(nf=2304, nx=768)
///   ...
/// ```
/// A ``ModuleList`` compresses runs of identical children: `(0-11): 12 x GPT2Block(...)`.
extension Module: CustomStringConvertible {
    public var description: String { describe(childKey: { $0 }) }

    /// The tree printed with each child's key transformed by `childKey` (nnsight prints aliases
    /// as `alias/name`).
    public func describe(childKey: (String) -> String) -> String {
        let children = childLines(childKey: childKey)
        let extra = extraDescription
        if children.isEmpty { return "\(typeName)(\(extra))" }
        var lines = extra.isEmpty ? [] : extra.split(separator: "\n").map(String.init)
        lines += children
        return "\(typeName)(\n" + lines.map { indent($0) }.joined(separator: "\n") + "\n)"
    }

    func childLines(childKey: (String) -> String) -> [String] {
        let rendered = namedChildren.map { (name: $0.name, text: $0.module.describe(childKey: childKey)) }
        guard self is any CompressedChildListing else {
            return rendered.map { "(\(childKey($0.name))): \($0.text)" }
        }
        var lines: [String] = []
        var start = 0
        while start < rendered.count {
            var end = start
            while end + 1 < rendered.count && rendered[end + 1].text == rendered[start].text { end += 1 }
            if end == start {
                lines.append("(\(rendered[start].name)): \(rendered[start].text)")
            } else {
                lines.append("(\(rendered[start].name)-\(rendered[end].name)): \(end - start + 1) x \(rendered[start].text)")
            }
            start = end + 1
        }
        return lines
    }
}

private func indent(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
}

/// Containers whose printout compresses runs of identical children (PyTorch does so for
/// `ModuleList` only).
protocol CompressedChildListing {}
