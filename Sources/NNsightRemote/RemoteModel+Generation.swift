import NNsight
import NNsightModels
import NNsightTorch

extension RemoteModel {
    /// Generates up to `maxNewTokens` tokens after `input` on the server, with `body` as the
    /// single invoke (run here), and returns what `body` returns. Each turn of
    /// `for _ in tracer.iter(...)` / `tracer.all()` waits until the server begins that step;
    /// `tracer.result()` is the generated ids. Python: `with model.generate(input,
    /// max_new_tokens=…, remote=True)`.
    ///
    /// ```swift
    /// let ids = try remote.generate("The capital of France is", maxNewTokens: 5) { m, t in
    ///     for _ in t.all() { try m.transformer.h[1].mlp.output[.all] = 0 }
    ///     return try t.result()
    /// }
    /// ```
    ///
    /// `streamer` receives each step's chosen tokens (this trace's rows, numbered as in a local
    /// generation of the same prompts) as the server sends them, on this thread while the
    /// generation runs, and is finished when it ends; see ``TokenStream`` and
    /// ``CallbackStreamer``. Python: `streamer=`.
    ///
    /// Generations co-batch on the server with others of the same prompt length and the same
    /// settings when that keeps every value equal to a local run (greedy, without stopping at
    /// the end-of-sequence token: a row that stopped alone would otherwise run on); any other
    /// generation has the forward to itself.
    public func generate<T>(_ input: any PromptConvertible, maxNewTokens: Int = 20, sampling: SamplingOptions = .greedy,
                            stopAtEOS: Bool = true, streamer: (any TokenStreamer)? = nil,
                            _ body: (Envoy, RemoteTracer) throws -> T) throws -> T {
        try runSingle(input, kind: .generation(try request(maxNewTokens, sampling, stopAtEOS), streamer: streamer), body)
    }

    /// Generates over the invokes `body` opens (their prompts batched, left-padded), as
    /// ``LanguageModel`` does. Python: `with model.generate(max_new_tokens=…, remote=True) as
    /// tracer: with tracer.invoke(...)`.
    @discardableResult
    public func generate<T>(maxNewTokens: Int = 20, sampling: SamplingOptions = .greedy, stopAtEOS: Bool = true,
                            streamer: (any TokenStreamer)? = nil, _ body: (RemoteTracer) throws -> T) throws -> T {
        try runOpen(kind: .generation(try request(maxNewTokens, sampling, stopAtEOS), streamer: streamer), body)
    }

    private func request(_ maxNewTokens: Int, _ sampling: SamplingOptions, _ stopAtEOS: Bool) throws -> GenerationRequest {
        guard maxNewTokens >= 0 else { throw NNsightError.invalidInput("maxNewTokens must not be negative, got \(maxNewTokens)") }
        guard maxNewTokens <= limits.newTokens else {
            throw RemoteError.protocolError(.limitExceeded, "\(maxNewTokens) new tokens exceed this key's \(limits.newTokens)")
        }
        return GenerationRequest(maxNewTokens: maxNewTokens, stopAtEOS: stopAtEOS, temperature: sampling.temperature,
                                 topK: sampling.topK, topP: sampling.topP, seed: sampling.seed)
    }
}

extension GenerationRequest {
    /// The sampling options these settings name.
    public var sampling: SamplingOptions {
        SamplingOptions(temperature: temperature, topK: topK, topP: topP, seed: seed)
    }
}
