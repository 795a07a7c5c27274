import NNsightModels
import NNsightNN
import NNsightTokenizers
import NNsightTorch

extension LanguageModel {
    /// Generates up to `maxNewTokens` tokens after `input`, with `body` as the single invoke, and
    /// returns what `body` returns. Without `iter`, requests address the first step (the
    /// prompt's forward pass); `tracer.iter(...)` and `tracer.all()` follow later steps, and
    /// `tracer.result()` is the generated ids. Python: `with model.generate(input, max_new_tokens=…)`.
    ///
    /// ```swift
    /// let ids = try model.generate("The capital of France is", maxNewTokens: 5) { m, t in
    ///     for _ in t.all() { try m.model.layers[3].mlp.output[.all] = 0 }
    ///     return try t.result()
    /// }
    /// ```
    ///
    /// `streamer` receives each step's tokens as they are chosen, with their probabilities
    /// (Python: `streamer=`); see ``TokenStream`` and ``CallbackStreamer``.
    public func generate<T>(_ input: any PromptConvertible, maxNewTokens: Int = 20, sampling: SamplingOptions = .greedy,
                            stopAtEOS: Bool = true, streamer: (any TokenStreamer)? = nil,
                            _ body: (Envoy, Tracer<LanguageModel>) throws -> T) throws -> T {
        try generationTracer(maxNewTokens: maxNewTokens, sampling: sampling, stopAtEOS: stopAtEOS, streamer: streamer)
            .runSingle(input, body)
    }

    /// Generates over the invokes `body` opens (their prompts batched, left-padded).
    /// Python: `with model.generate(max_new_tokens=…) as tracer: with tracer.invoke(...)`.
    @discardableResult
    public func generate<T>(maxNewTokens: Int = 20, sampling: SamplingOptions = .greedy, stopAtEOS: Bool = true,
                            streamer: (any TokenStreamer)? = nil, _ body: (Tracer<LanguageModel>) throws -> T) throws -> T {
        try generationTracer(maxNewTokens: maxNewTokens, sampling: sampling, stopAtEOS: stopAtEOS, streamer: streamer)
            .runOpen(body)
    }

    private func generationTracer(maxNewTokens: Int, sampling: SamplingOptions, stopAtEOS: Bool,
                                  streamer: (any TokenStreamer)?) -> Tracer<LanguageModel> {
        let options = GenerationOptions(maxNewTokens: maxNewTokens, sampling: sampling,
                                        eosTokenIds: stopAtEOS ? checkpoint.eosTokenIds : [], padTokenId: padTokenId)
        return Tracer(model: self) { [unowned self] inputs in
            try self.generationBatch(inputs, options: options, streamer: streamer)
        }
    }

    /// The batch of a generation: the prompts left-padded, run through the model's generation
    /// loop, which reports each step and the generated ids.
    func generationBatch(_ inputs: [any PromptConvertible], options: GenerationOptions,
                         streamer: (any TokenStreamer)? = nil) throws -> PreparedBatch {
        let (rows, ids, mask) = try encode(inputs)
        try dispatch()
        let network = self.network
        let tokenizer = self.tokenizer
        return PreparedBatch(rows: rows, isGeneration: true) { events in
            defer { streamer?.finish() }
            let observer = GenerationObserver(stepWillBegin: { try events.stepWillBegin($0) }, stepDidEnd: { step, logits, tokens in
                try streamer?.receive(streamedTokens(step: step, logits: logits, tokens: tokens, tokenizer: tokenizer))
            })
            let sequences = try NNsightModels.generate(network, inputIds: ids, attentionMask: mask, options: options, observer: observer)
            try events.deliver(result: sequences)
        }
    }
}

extension NNsightModel where Root: CausalLanguageModel {
    /// Generates up to `maxNewTokens` tokens after `inputIds` `[batch, sequence]` with `body` as the
    /// single invoke, and returns what `body` returns: `generate` for a wrapped causal language
    /// model without a tokenizer. Iteration works as in ``LanguageModel/generate(_:maxNewTokens:sampling:stopAtEOS:_:)``;
    /// `tracer.result()` is the prompt followed by the new ids. Generation stops early only when
    /// every row has produced one of `eosTokenIds` (none by default).
    /// Python: `with NNsight(model).generate(input_ids, max_new_tokens=…)`.
    ///
    /// ```swift
    /// let model = NNsightModel(try GPT2LMHeadModel(GPT2Config()))
    /// let lastBlock = try model.generate(ids, maxNewTokens: 20) { m, t in
    ///     try t.all().map { _ in try m.transformer.h[-1].output }
    /// }
    /// ```
    public func generate<T>(_ inputIds: Tensor, maxNewTokens: Int = 20, sampling: SamplingOptions = .greedy,
                            eosTokenIds: [Int] = [], padTokenId: Int = 0,
                            _ body: (Envoy, Tracer<NNsightModel<Root>>) throws -> T) throws -> T {
        let options = GenerationOptions(maxNewTokens: maxNewTokens, sampling: sampling, eosTokenIds: eosTokenIds,
                                        padTokenId: padTokenId)
        let tracer = Tracer(model: self) { [unowned self] inputs in
            let (rows, ids) = try self.concatenated(inputs)
            let network = self.module
            return PreparedBatch(rows: rows, isGeneration: true) { events in
                let observer = GenerationObserver(stepWillBegin: { try events.stepWillBegin($0) })
                try events.deliver(result: try NNsightModels.generate(network, inputIds: ids, options: options, observer: observer))
            }
        }
        return try tracer.runSingle(inputIds, body)
    }
}

/// Each row's chosen token at one step, with its probability and the five most likely tokens.
func streamedTokens(step: Int, logits: Tensor, tokens: Tensor, tokenizer: Tokenizer) throws -> [StreamedToken] {
    let probabilities = try logits.select(dim: 1, index: logits.size(1) - 1).to(.float32).softmax(dim: -1)
    let ids = try tokens.toArray(Int.self)
    let chosen = try probabilities.gather(dim: -1, index: tokens.to(.int64).unsqueeze(-1)).toArray(Double.self)
    let (topValues, topIds) = try probabilities.topk(Swift.min(5, try probabilities.size(-1)), dim: -1)
    let k = try topIds.size(-1)
    let alternativesIds = try topIds.toArray(Int.self), alternativesValues = try topValues.toArray(Double.self)
    return ids.enumerated().map { row, id in
        let alternatives = (0..<k).map { i in
            let id = alternativesIds[row * k + i]
            return TokenProbability(id: id, text: tokenizer.decode([id]), probability: alternativesValues[row * k + i])
        }
        return StreamedToken(step: step, row: row, id: id, text: tokenizer.decode([id]),
                             probability: chosen[row], alternatives: alternatives)
    }
}
