import NNsightTorch

/// How the next token is chosen. Python: `generate(do_sample=, temperature=, top_k=, top_p=)`.
public struct SamplingOptions: Sendable, Equatable {
    /// 0 (the default) picks the most likely token (greedy); above 0, logits are divided by it
    /// and the token is drawn.
    public var temperature: Double
    /// Keep only the `topK` most likely tokens before drawing.
    public var topK: Int?
    /// Keep the smallest set of most likely tokens whose probability reaches `topP`.
    public var topP: Double?
    /// Seeds the draw, so that a sampled generation repeats exactly.
    public var seed: UInt64?

    public init(temperature: Double = 0, topK: Int? = nil, topP: Double? = nil, seed: UInt64? = nil) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
    }

    public static let greedy = SamplingOptions()
}

/// Picks the next token of each row from last-position logits `[batch, vocabulary]`.
struct TokenSampler {
    let options: SamplingOptions
    let generator: Generator?

    init(_ options: SamplingOptions) {
        self.options = options
        generator = options.seed.map { Generator(seed: $0) }
    }

    func next(_ logits: Tensor) throws -> Tensor {
        guard options.temperature > 0 else { return try logits.argmax(dim: -1) }
        var scores = try logits.to(.float32) / options.temperature
        if let k = options.topK, k > 0, k < (try scores.size(-1)) {
            let kth = try scores.topk(k, dim: -1).values.narrow(dim: -1, start: k - 1, length: 1)
            scores = try scores.maskedFill(scores .< kth, -Double.infinity)
        }
        if let p = options.topP, p < 1 {
            // Tokens in descending order are kept while the probability before them is below p.
            let sorted = try scores.sort(dim: -1, descending: true).values
            let probabilities = try sorted.softmax(dim: -1)
            let before = try probabilities.cumsum(dim: -1) - probabilities
            let kept = try (before .< p).sum(dim: -1, keepDim: true).clamp(min: 1).to(.int64)
            let threshold = try sorted.gather(dim: -1, index: kept - 1)
            scores = try scores.maskedFill(scores .< threshold, -Double.infinity)
        }
        let probabilities = try scores.softmax(dim: -1)
        guard generator != nil, probabilities.device != .cpu else {
            return try probabilities.multinomial(1, generator: generator).squeeze(dim: -1)
        }
        // A seeded generator is a CPU one: draw on the host so that a seed picks the same tokens
        // on every device, and hand the tokens back where the logits live.
        return try probabilities.to(device: .cpu).multinomial(1, generator: generator).squeeze(dim: -1)
            .to(device: probabilities.device)
    }
}
