import NNsightNN
import NNsightTorch

/// What to generate. Python: the keyword arguments of `model.generate(...)`.
public struct GenerationOptions: Sendable {
    public var maxNewTokens: Int
    public var sampling: SamplingOptions
    /// Tokens that finish a row; finished rows are padded with `padTokenId` until every row is done.
    public var eosTokenIds: [Int]
    public var padTokenId: Int

    public init(maxNewTokens: Int = 20, sampling: SamplingOptions = .greedy, eosTokenIds: [Int] = [], padTokenId: Int = 0) {
        self.maxNewTokens = maxNewTokens
        self.sampling = sampling
        self.eosTokenIds = eosTokenIds
        self.padTokenId = padTokenId
    }
}

/// Where each generation step begins and ends, for code that follows the steps (the
/// intervention engine's `iter`/`next`). Throwing from either stops generation with that error.
public struct GenerationObserver {
    /// Called before step `n` runs the model (step 0 is the prompt).
    public var stepWillBegin: (_ step: Int) throws -> Void
    /// Called after step `n` chose its tokens, with the step's logits `[batch, 1, vocabulary]` (the
    /// last position's: generation computes no others) and the chosen tokens `[batch]`.
    public var stepDidEnd: (_ step: Int, _ logits: Tensor, _ tokens: Tensor) throws -> Void

    public init(stepWillBegin: @escaping (Int) throws -> Void = { _ in },
                stepDidEnd: @escaping (Int, Tensor, Tensor) throws -> Void = { _, _, _ in }) {
        self.stepWillBegin = stepWillBegin
        self.stepDidEnd = stepDidEnd
    }
}

/// Generates up to `options.maxNewTokens` tokens after `inputIds` `[batch, sequence]` (left-padded,
/// with `attentionMask`, for prompts of different lengths), reusing keys and values through a
/// KV cache. Returns the prompt followed by the new tokens, `[batch, sequence + new]`.
/// Python: `model.generate(input_ids, attention_mask=, max_new_tokens=, …)`.
public func generate(_ model: any CausalLanguageModel, inputIds: Tensor, attentionMask: Tensor? = nil,
                     options: GenerationOptions = GenerationOptions(),
                     observer: GenerationObserver = GenerationObserver()) throws -> Tensor {
    guard inputIds.rank == 2, try inputIds.size(1) > 0 else {
        throw ModelError.invalidInput("input ids must be [batch, sequence] with at least one token, got \(inputIds.shape)")
    }
    let batch = try inputIds.size(0)
    let sampler = TokenSampler(options.sampling)
    let cache = model.makeCache()
    let eos = options.eosTokenIds.isEmpty ? nil : try Tensor(options.eosTokenIds, device: inputIds.device)
    var mask = try attentionMask?.to(.int64)
    var unfinished = try Tensor.ones([batch], dtype: .bool, device: inputIds.device)
    var sequences = inputIds
    var input = inputIds
    for step in 0..<options.maxNewTokens {
        try observer.stepWillBegin(step)
        let context = ForwardContext(attentionMask: mask, cache: cache, logitsToKeep: 1)
        let logits = try Torch.noGrad { try model(input, context) }
        // Logits come from the last device of a model split over several; tokens go back to the inputs'.
        var tokens = try sampler.next(logits.select(dim: 1, index: logits.size(1) - 1)).to(device: inputIds.device)
        if let eos {
            tokens = try Tensor.where(unfinished, tokens, tokens.fullLike(options.padTokenId))
            let hitEOS = try (tokens.unsqueeze(-1) .== eos.unsqueeze(0)).sum(dim: -1) .> 0
            unfinished = try unfinished .&& hitEOS.logicalNot()
        }
        sequences = try Tensor.cat([sequences, tokens.unsqueeze(-1)], dim: 1)
        try observer.stepDidEnd(step, logits, tokens)
        if eos != nil, try !unfinished.any().item(Bool.self) { break }
        input = try tokens.unsqueeze(-1)
        if let current = mask { mask = try Tensor.cat([current, current.onesLike().narrow(dim: 1, start: 0, length: 1)], dim: 1) }
    }
    return sequences
}
