import NNsightNN
import NNsightTorch

// Two GPT-2-small-shaped block stacks with the same forward text, one marked `@Sourced` and one
// not, for the cost of the hook points when no trace asks for an operation. (The models'
// own GPT-2 is marked; this pair isolates the macro's cost from everything else.)

private func heads(_ x: Tensor, _ count: Int) throws -> Tensor {
    let shape = x.shape
    return try x.view([shape[0], shape[1], count, shape[2] / count]).transpose(1, 2)
}

private func merged(_ x: Tensor) throws -> Tensor {
    let shape = x.shape
    return try x.transpose(1, 2).reshape([shape[0], shape[2], shape[1] * shape[3]])
}

private let explicitOperations = ["scores_0", "pattern_0", "weighted_0"]

/// GPT2Attention's forward as it was before marking (fused attention, causal).
final class PlainAttention: Module {
    let c_attn: Conv1D, c_proj: Conv1D
    let count: Int

    init(width: Int, heads: Int) throws {
        c_attn = try Conv1D(nf: 3 * width, nx: width)
        c_proj = try Conv1D(nf: width, nx: width)
        count = heads
    }

    override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let qkv = try c_attn(input).split(input.size(-1), dim: 2)
        let query = try heads(qkv[0], count)
        let key = try heads(qkv[1], count)
        let value = try heads(qkv[2], count)
        let attended = try F.scaledDotProductAttention(query, key, value, isCausal: true)
        return try c_proj(merged(attended))
    }
}

/// The same forward, marked, with the explicit-path check GPT2Attention makes.
final class MarkedAttention: Module {
    let c_attn: Conv1D, c_proj: Conv1D
    let count: Int

    init(width: Int, heads: Int) throws {
        c_attn = try Conv1D(nf: 3 * width, nx: width)
        c_proj = try Conv1D(nf: width, nx: width)
        count = heads
    }

    @Sourced
    override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let qkv = try self.c_attn(input).split(input.size(-1), dim: 2)
        let query = try heads(qkv[0], count)
        let key = try heads(qkv[1], count)
        let value = try heads(qkv[2], count)
        let attended: Tensor
        if self.sourceHooked(explicitOperations) {
            attended = try F.scaledDotProductAttention(query, key, value, isCausal: true)
        } else {
            attended = try F.scaledDotProductAttention(query, key, value, isCausal: true)
        }
        return try self.c_proj(merged(attended))
    }
}

final class PlainBlock: Module {
    let ln_1: LayerNorm, attn: PlainAttention, ln_2: LayerNorm, c_fc: Conv1D, act: NewGELUActivation, c_proj: Conv1D

    init(width: Int, heads: Int) throws {
        ln_1 = try LayerNorm([width]); attn = try PlainAttention(width: width, heads: heads); ln_2 = try LayerNorm([width])
        c_fc = try Conv1D(nf: 4 * width, nx: width); act = NewGELUActivation(); c_proj = try Conv1D(nf: width, nx: 4 * width)
    }

    override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let hidden = try attn(ln_1(input), context) + input
        return try c_proj(act(c_fc(ln_2(hidden)))) + hidden
    }
}

final class MarkedBlock: Module {
    let ln_1: LayerNorm, attn: MarkedAttention, ln_2: LayerNorm, c_fc: Conv1D, act: NewGELUActivation, c_proj: Conv1D

    init(width: Int, heads: Int) throws {
        ln_1 = try LayerNorm([width]); attn = try MarkedAttention(width: width, heads: heads); ln_2 = try LayerNorm([width])
        c_fc = try Conv1D(nf: 4 * width, nx: width); act = NewGELUActivation(); c_proj = try Conv1D(nf: width, nx: 4 * width)
    }

    @Sourced
    override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        let hidden = try self.attn(self.ln_1(input), context) + input
        return try self.c_proj(self.act(self.c_fc(self.ln_2(hidden)))) + hidden
    }
}
