import NNsightNN
import NNsightTorch

/// Any model built from `NN` modules, wrapped for tracing. Its input is one tensor whose first
/// dimension is the batch; the inputs of several invokes are concatenated along it.
/// Python: `NNsight(module)`.
///
/// ```swift
/// let model = NNsightModel(net)
/// let hidden = try model.trace(x) { m in try m.layer1.output }
/// ```
public final class NNsightModel<Root: Module>: EditableModel {
    public typealias Input = Tensor

    /// The wrapped module.
    public let module: Root
    public let envoys: EnvoyTree
    public let edits: Edits

    /// Wraps `module`; `rename` adds aliases (`["layer1": "first"]`, or dotted paths).
    public init(_ module: Root, rename: [String: String] = [:]) {
        self.module = module
        envoys = EnvoyTree(module: module, rename: rename)
        edits = Edits()
    }

    private init(module: Root, envoys: EnvoyTree, edits: Edits) {
        self.module = module
        self.envoys = envoys
        self.edits = edits
    }

    public func sharing(edits: Edits) -> NNsightModel<Root> { NNsightModel(module: module, envoys: envoys, edits: edits) }

    /// The root envoy, for walking the tree outside a trace. Python: the wrapper itself.
    public var root: Envoy { envoys.root }

    public func batch(_ inputs: [Tensor]) throws -> PreparedBatch {
        let (rows, combined) = try concatenated(inputs)
        let module = self.module
        return PreparedBatch(rows: rows) { events in try events.deliver(result: try module(combined)) }
    }

    /// The inputs joined along the batch dimension, and the rows each covers.
    func concatenated(_ inputs: [Tensor]) throws -> (rows: [Range<Int>], combined: Tensor) {
        var rows: [Range<Int>] = []
        var start = 0
        for input in inputs {
            let count = input.rank == 0 ? 1 : try input.size(0)
            rows.append(start..<(start + count))
            start += count
        }
        return (rows, inputs.count == 1 ? inputs[0] : try Tensor.cat(inputs, dim: 0))
    }
}
