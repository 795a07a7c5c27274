// The sparse mixture-of-experts block that transformers 5 writes once per family and that is the
// same code in Mixtral (models/mixtral/modeling_mixtral.py) and Qwen3-MoE
// (models/qwen3_moe/modeling_qwen3_moe.py): a top-k router whose output is the router logits,
// and every expert's weights stacked in two parameters. The families differ only in class names,
// the order of the two children, and whether the top-k probabilities are renormalised
// (Mixtral always; Qwen3-MoE when `norm_topk_prob`): ``SparseMoeSettings``.
import Foundation
import NNsightNN
import NNsightTorch

/// How one family's sparse MoE block is shaped and named.
public struct SparseMoeSettings: Sendable, Equatable {
    /// transformers' class-name prefix (`Mixtral`, `Qwen3Moe`).
    public var classPrefix: String
    public var hiddenSize: Int
    /// Each expert's MLP width (Mixtral: `intermediate_size`; Qwen3-MoE: `moe_intermediate_size`).
    public var expertSize: Int
    /// Experts per layer.
    public var experts: Int
    /// Experts each token is routed to (`num_experts_per_tok`).
    public var topK: Int
    /// Whether the top-k probabilities are renormalised to sum to one (`norm_topk_prob`).
    public var normalizeTopK: Bool
    /// Whether `experts` is registered before `gate` (Qwen3-MoE) or after it (Mixtral), which
    /// is the order transformers prints them in.
    public var expertsFirst: Bool
    /// Whether the routing weights are rounded to the router logits' dtype before they scale the
    /// experts' outputs (Qwen3-MoE), or kept in float32 (Mixtral). The same in float32.
    public var weightsInLogitsDType: Bool
}

/// Python: `MixtralTopKRouter` / `Qwen3MoeTopKRouter`: `weight` `[experts, hidden]`. Its output
/// is the router logits `[tokens, experts]` of the flattened tokens, which an intervention may read
/// or replace; the block picks the top-k experts from them. (Python returns the logits with the
/// top-k weights and indices; the logits are the first element.)
public final class MoeTopKRouter: Module {
    public let weight: Parameter
    let typePrefix: String

    init(_ settings: SparseMoeSettings, device: Device) throws {
        weight = Parameter(try Tensor.empty([settings.experts, settings.hiddenSize], device: device))
        typePrefix = settings.classPrefix
    }

    public override var typeName: String { typePrefix + "TopKRouter" }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try F.linear(input, weight: weight.value)
    }
}

/// The routing of one forward pass of a sparse MoE block: each token's weight on each expert,
/// `[tokens, experts]`, zero off its top k (handed from the block to its `experts`).
public struct ExpertRouting: DerivedForwardState {
    public var weights: Tensor
    public var names: [String] { ["top_k_index", "top_k_weights"] }
}

/// Python: `MixtralExperts` / `Qwen3MoeExperts`: every expert's `gate_up_proj`
/// `[experts, 2 × mlp, hidden]` and `down_proj` `[experts, hidden, mlp]`; expert e computes
/// `down(silu(gate) * up)`. Called by its block on the flattened tokens `[tokens, hidden]`, it
/// returns their routing-weighted sum of the experts' outputs. Only experts chosen by some token
/// run (on every token, weighted by zero where not chosen: the same sum).
public final class MoeExperts: Module {
    public let gate_up_proj: Parameter
    public let down_proj: Parameter
    public let act_fn: SiLUActivation
    let experts: Int
    let typePrefix: String

    init(_ settings: SparseMoeSettings, device: Device) throws {
        experts = settings.experts
        gate_up_proj = Parameter(try Tensor.empty([experts, 2 * settings.expertSize, settings.hiddenSize], device: device))
        down_proj = Parameter(try Tensor.empty([experts, settings.hiddenSize, settings.expertSize], device: device))
        act_fn = SiLUActivation()
        typePrefix = settings.classPrefix
    }

    public override var typeName: String { typePrefix + "Experts" }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        guard let routing = context.derived(as: ExpertRouting.self) else {
            throw ModelError.invalidInput("\(typeName) needs the routing its block derives (call it through its SparseMoeBlock)")
        }
        var output = try Tensor.zeros(input.shape, dtype: input.dtype, device: input.device)
        if input.device == .meta {
            return output
        }
        let selected = try (routing.weights .!= 0).sum(dim: 0).to(.int64).toArray(Int.self)
        for expert in 0..<experts where selected[expert] > 0 {
            let halves = try F.linear(input, weight: gate_up_proj.value.select(dim: 0, index: expert)).chunk(2, dim: -1)
            let hidden = try act_fn(halves[0], context) * halves[1]
            let expertOutput = try F.linear(hidden, weight: down_proj.value.select(dim: 0, index: expert))
            let weight = try routing.weights.narrow(dim: 1, start: expert, length: 1).to(expertOutput.dtype)
            output = try output + expertOutput * weight
        }
        return output
    }
}

/// Python: `MixtralSparseMoeBlock` / `Qwen3MoeSparseMoeBlock`: the router (`gate`) scores every
/// expert, each token goes to its top k by softmax probability (renormalised over those k where
/// the family does), and the output is the weighted sum of their outputs.
public final class SparseMoeBlock: Module {
    public let gate: MoeTopKRouter
    public let experts: MoeExperts
    public let settings: SparseMoeSettings

    init(_ settings: SparseMoeSettings, device: Device) throws {
        gate = try MoeTopKRouter(settings, device: device)
        experts = try MoeExperts(settings, device: device)
        self.settings = settings
    }

    public override var typeName: String { settings.classPrefix + "SparseMoeBlock" }

    /// `gate` and `experts` in the order the family's Python class registers them.
    public override var namedChildren: [(name: String, module: Module)] {
        settings.expertsFirst ? [("experts", experts), ("gate", gate)] : [("gate", gate), ("experts", experts)]
    }

    /// Marked: `.source` names the flattened `tokens_0`, the router's `logits_0` and the dense
    /// `routing_0` weights `[tokens, experts]` (each token's top-k probabilities, zero elsewhere),
    /// which a trace may read or replace to route tokens by hand.
    @Sourced
    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let tokens = try input.reshape([-1, input.size(-1)])
        let logits = try self.gate(tokens, context)
        let routing = try topKRouting(logits)
        let mixed = try self.experts(tokens, routed(context, routing))
        return try mixed.reshape(input.shape)
    }

    /// Each token's weight on each expert `[tokens, experts]`, float32: its top-k softmax
    /// probabilities (renormalised over those k where the family does), zero elsewhere.
    func topKRouting(_ logits: Tensor) throws -> Tensor {
        let probabilities = try logits.to(.float32).softmax(dim: -1)
        let (top, indices) = try probabilities.topk(settings.topK, dim: -1)
        let chosen = settings.normalizeTopK ? try top / top.sum(dim: -1, keepDim: true) : top
        let normalized = settings.weightsInLogitsDType ? try chosen.to(logits.dtype).to(.float32) : chosen
        var weights = try Tensor.zeros(probabilities.shape, dtype: .float32, device: logits.device)
        let expertIds = try Tensor.arange(0, settings.experts, device: logits.device).unsqueeze(0)
        for k in 0..<settings.topK {
            let index = try indices.narrow(dim: 1, start: k, length: 1)
            weights = try weights + (expertIds .== index).to(.float32) * normalized.narrow(dim: 1, start: k, length: 1)
        }
        return weights
    }

    /// `context` with `routing` attached for the experts.
    func routed(_ context: ForwardContext, _ routing: Tensor) -> ForwardContext {
        var inner = context
        inner.derived = ExpertRouting(weights: routing)
        return inner
    }
}

/// Stacks the hub's per-expert weights `<layer>.experts.<e>.<gate|up|down>.weight` of each layer
/// into `<layer>.experts.gate_up_proj` `[experts, 2 × mlp, hidden]` (gate rows, then up) and
/// `<layer>.experts.down_proj` `[experts, hidden, mlp]`, as transformers 5 does when it loads them;
/// every other tensor passes through. `names` are the family's (Mixtral `w1`, `w3`, `w2`;
/// Qwen3-MoE `gate_proj`, `up_proj`, `down_proj`).
///
/// The two stacked tensors are made once, at their full size, and each expert's weights are
/// copied into their slots one after another, `release` called on each right after its copy (the
/// loader gives its memory-mapped pages back): the load holds a layer's experts once, plus one
/// expert's weights, and makes no temporary copies. Every expert's weights must have the first
/// expert's shapes (a slot copy would otherwise broadcast), else
/// ``ModelError/malformedCheckpoint(file:reason:)`` names the tensor.
func stackPerExpertWeights(_ weights: [String: Tensor], experts count: Int,
                           names: (gate: String, up: String, down: String),
                           release: (Tensor) -> Void = { _ in }) throws -> [String: Tensor] {
    var result: [String: Tensor] = [:]
    var perLayer: [String: [Int: [String: Tensor]]] = [:]   // prefix → expert → gate/up/down
    let parts = [names.gate, names.up, names.down]
    for (key, tensor) in weights {
        guard let range = key.range(of: ".experts.") else { result[key] = tensor; continue }
        let rest = key[range.upperBound...].split(separator: ".")
        guard rest.count == 3, let expert = Int(rest[0]), parts.contains(String(rest[1])), rest[2] == "weight" else {
            result[key] = tensor
            continue
        }
        perLayer[String(key[..<range.lowerBound]), default: [:]][expert, default: [:]][String(rest[1])] = tensor
    }
    for (prefix, experts) in perLayer.sorted(by: { $0.key < $1.key }) {
        guard experts.keys.allSatisfy({ (0..<count).contains($0) }) else {
            throw ModelError.malformedCheckpoint(file: "\(prefix).experts", reason: "experts outside 0..<\(count) (the config's expert count)")
        }
        let weightsOf = try (0..<count).map { expert in
            guard let gate = experts[expert]?[names.gate], let up = experts[expert]?[names.up],
                  let down = experts[expert]?[names.down] else {
                throw ModelError.malformedCheckpoint(
                    file: "\(prefix).experts.\(expert)", reason: "expert \(expert) needs \(parts.joined(separator: ", ")) weights")
            }
            return (gate: gate, up: up, down: down)
        }
        let first = weightsOf[0]
        for (expert, tensors) in weightsOf.enumerated() {
            for (name, tensor, shape) in [(names.gate, tensors.gate, first.gate.shape), (names.up, tensors.up, first.up.shape),
                                          (names.down, tensors.down, first.down.shape)]
            where tensor.shape != shape || shape.count != 2 || tensor.dtype != first.gate.dtype {
                throw ModelError.malformedCheckpoint(
                    file: "\(prefix).experts.\(expert).\(name).weight",
                    reason: "shape \(tensor.shape) \(tensor.dtype) where expert 0's is \(shape) \(first.gate.dtype) (a matrix)")
            }
        }
        guard first.gate.shape[1] == first.up.shape[1] else {
            throw ModelError.malformedCheckpoint(
                file: "\(prefix).experts.0.\(names.up).weight",
                reason: "shape \(first.up.shape) has not \(names.gate)'s \(first.gate.shape[1]) columns")
        }
        let gateRows = first.gate.shape[0], upRows = first.up.shape[0]
        let gateUp = try Tensor.empty([count, gateRows + upRows, first.gate.shape[1]], dtype: first.gate.dtype,
                                      device: first.gate.device)
        let down = try Tensor.empty([count] + first.down.shape, dtype: first.down.dtype, device: first.down.device)
        for (expert, tensors) in weightsOf.enumerated() {
            let slot = try gateUp.select(dim: 0, index: expert)
            try slot.narrow(dim: 0, start: 0, length: gateRows).copy_(tensors.gate)
            release(tensors.gate)
            try slot.narrow(dim: 0, start: gateRows, length: upRows).copy_(tensors.up)
            release(tensors.up)
            try down.select(dim: 0, index: expert).copy_(tensors.down)
            release(tensors.down)
        }
        result["\(prefix).experts.gate_up_proj"] = gateUp
        result["\(prefix).experts.down_proj"] = down
    }
    return result
}
