import Foundation
import NNsightNN
import NNsightTorch

/// The cosine and sine tables `[batch, sequence, headDim]` for the positions of one forward pass.
public struct RotaryTables: Sendable {
    public let cos: Tensor
    public let sin: Tensor
}

/// Rotary position embeddings, with Llama-3 and linear frequency scaling. Port of transformers'
/// `LlamaRotaryEmbedding` (`rotary_emb`): called with position ids `[batch, sequence]`, returns
/// cosines and sines stacked as `[2, batch, sequence, headDim]`.
public final class RotaryEmbedding: Module {
    let invFreq: Buffer
    let typePrefix: String

    public convenience init(config: LlamaConfig, classPrefix: String = "Llama", device: Device = .cpu) throws {
        try self.init(dimension: config.headDim, theta: config.ropeTheta, scaling: config.ropeScaling,
                      classPrefix: classPrefix, device: device)
    }

    /// Rotates the first `dimension` features of each head (all of them, or a part: GPT-NeoX's
    /// `partial_rotary_factor`) with base `theta`.
    public init(dimension dim: Int, theta: Double, scaling: LlamaConfig.RopeScaling? = nil, classPrefix: String,
                device: Device = .cpu) throws {
        typePrefix = classPrefix
        let invFreq = try RotaryEmbedding.inverseFrequencies(dimension: dim, theta: theta, scaling: scaling)
        // Derived from the config, not the checkpoint: kept real even for a model built on the
        // meta device, so that loading weights later leaves nothing unmaterialised.
        self.invFreq = Buffer(device == .meta ? invFreq : try invFreq.to(device: device), persistent: false)
    }

    public override var typeName: String { typePrefix + "RotaryEmbedding" }

    /// `1 / theta^(2i / dimension)` for the `dimension / 2` rotated pairs, scaled by `scaling`
    /// (Python: `compute_default_rope_parameters` and the `ROPE_INIT_FUNCTIONS` rule of its type).
    static func inverseFrequencies(dimension dim: Int, theta: Double, scaling: LlamaConfig.RopeScaling?) throws -> Tensor {
        let exponents = try Tensor.arange(0, dim, step: 2, dtype: .int64).to(.float32) / Double(dim)
        let invFreq = try 1.0 / Tensor.pow(theta, exponents)
        guard let scaling else { return invFreq }
        return try RotaryEmbedding.scale(invFreq, scaling)
    }

    /// Python: `_compute_llama3_parameters` and the linear rule.
    static func scale(_ invFreq: Tensor, _ scaling: LlamaConfig.RopeScaling) throws -> Tensor {
        let factor = scaling.factor ?? 1
        if scaling.ropeType == "linear" { return try invFreq / factor }
        let low = scaling.lowFreqFactor ?? 1, high = scaling.highFreqFactor ?? 4
        let original = Double(scaling.originalMaxPositionEmbeddings ?? 8192)
        let lowFreqWavelength = original / low, highFreqWavelength = original / high
        let wavelength = try (2 * Double.pi) / invFreq
        let scaled = try Tensor.where(wavelength .> lowFreqWavelength, invFreq / factor, invFreq)
        let smooth = try (original / wavelength - low) / (high - low)
        let smoothed = try (1 - smooth) * scaled / factor + smooth * scaled
        let medium = try (wavelength .< highFreqWavelength).logicalNot() .&& (wavelength .> lowFreqWavelength).logicalNot()
        return try Tensor.where(medium, smoothed, scaled)
    }

    public override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
        try RotaryEmbedding.cosineAndSine(input, invFreq.value)
    }

    /// Cosines and sines `[2, batch, sequence, headDim]` of position ids `[batch, sequence]` times
    /// the inverse frequencies.
    static func cosineAndSine(_ positionIds: Tensor, _ invFreq: Tensor) throws -> Tensor {
        let positions = try positionIds.to(.float32).unsqueeze(-1)           // [b, s, 1]
        let freqs = try positions * invFreq.to(device: positionIds.device)    // [b, s, d/2]
        let angles = try Tensor.cat([freqs, freqs], dim: -1)
        return try Tensor.stack([angles.cos(), angles.sin()])
    }

    /// The tables for `positionIds`, in `dtype`.
    func tables(_ positionIds: Tensor, dtype: DType, context: ForwardContext) throws -> RotaryTables {
        let stacked = try self(positionIds, context).to(dtype)
        return RotaryTables(cos: try stacked.select(dim: 0, index: 0), sin: try stacked.select(dim: 0, index: 1))
    }
}

/// Python: `apply_rotary_pos_emb` for one of q or k `[batch, heads, sequence, headDim]`. Tables
/// narrower than the head rotate its first features and pass the rest through (partial rotary).
func applyRotary(_ x: Tensor, _ tables: RotaryTables) throws -> Tensor {
    let rotaryWidth = try tables.cos.size(-1), width = try x.size(-1)
    if rotaryWidth < width {
        let head = try x.narrow(dim: -1, start: 0, length: rotaryWidth)
        let tail = try x.narrow(dim: -1, start: rotaryWidth, length: width - rotaryWidth)
        return try Tensor.cat([applyRotary(head, tables), tail], dim: -1)
    }
    let cos = try tables.cos.unsqueeze(1), sin = try tables.sin.unsqueeze(1)
    let half = try x.size(-1) / 2
    let first = try x.narrow(dim: -1, start: 0, length: half)
    let second = try x.narrow(dim: -1, start: half, length: half)
    let rotated = try Tensor.cat([-second, first], dim: -1)
    return try x * cos + rotated * sin
}
