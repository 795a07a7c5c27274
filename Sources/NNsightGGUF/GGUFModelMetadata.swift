/// The Llama-family hyperparameters of a GGUF file, read from `<arch>.*` metadata keys
/// (`arch` is `general.architecture`, e.g. `llama`).
public struct GGUFLlamaHyperparameters: Sendable, Equatable {
    /// `general.architecture`.
    public var architecture: String
    /// `<arch>.block_count`: number of transformer layers.
    public var blockCount: Int
    /// `<arch>.context_length`.
    public var contextLength: Int
    /// `<arch>.embedding_length`: hidden size.
    public var embeddingLength: Int
    /// `<arch>.feed_forward_length`: MLP intermediate size.
    public var feedForwardLength: Int
    /// `<arch>.attention.head_count`.
    public var headCount: Int
    /// `<arch>.attention.head_count_kv` (defaults to `headCount`).
    public var headCountKV: Int
    /// `<arch>.rope.freq_base` (defaults to 10000).
    public var ropeFreqBase: Float
    /// `<arch>.rope.dimension_count`, if present.
    public var ropeDimensionCount: Int?
    /// `<arch>.attention.layer_norm_rms_epsilon`.
    public var rmsNormEpsilon: Float
    /// `<arch>.vocab_size`, or the length of `tokenizer.ggml.tokens` when absent.
    public var vocabSize: Int

    /// Reads the hyperparameters; throws naming the first missing or mistyped key.
    public init(_ metadata: GGUFMetadata) throws(GGUFError) {
        let arch = try metadata.string("general.architecture")
        architecture = arch
        blockCount = try metadata.int("\(arch).block_count")
        contextLength = try metadata.int("\(arch).context_length")
        embeddingLength = try metadata.int("\(arch).embedding_length")
        feedForwardLength = try metadata.int("\(arch).feed_forward_length")
        headCount = try metadata.int("\(arch).attention.head_count")
        headCountKV = try metadata.optional("\(arch).attention.head_count_kv", as: Int.self) ?? headCount
        ropeFreqBase = try metadata.optional("\(arch).rope.freq_base", as: Float.self) ?? 10000
        ropeDimensionCount = try metadata.optional("\(arch).rope.dimension_count", as: Int.self)
        rmsNormEpsilon = try metadata.float("\(arch).attention.layer_norm_rms_epsilon")
        if let size = try metadata.optional("\(arch).vocab_size", as: Int.self) {
            vocabSize = size
        } else {
            vocabSize = try metadata.strings("tokenizer.ggml.tokens").count
        }
    }
}

/// The tokenizer vocabulary stored in a GGUF file's `tokenizer.ggml.*` keys, ready for the
/// `Models` layer to build a tokenizer from (this target does not depend on `Tokenizers`).
public struct GGUFTokenizerMetadata: Sendable, Equatable {
    /// `tokenizer.ggml.model`: `gpt2` (byte-level BPE), `llama` (SentencePiece), ….
    public var model: String
    /// `tokenizer.ggml.pre`: the pre-tokenizer name (`smollm`, `llama-bpe`, …), if present.
    public var preTokenizer: String?
    /// `tokenizer.ggml.tokens`: the vocabulary, indexed by token id.
    public var tokens: [String]
    /// `tokenizer.ggml.token_type`: llama.cpp token types (1 normal, 2 unknown, 3 control, …).
    public var tokenTypes: [Int]?
    /// `tokenizer.ggml.scores`: SentencePiece scores.
    public var scores: [Float]?
    /// `tokenizer.ggml.merges`: BPE merges, `"a b"` each.
    public var merges: [String]?
    /// `tokenizer.ggml.bos_token_id`.
    public var bosTokenID: Int?
    /// `tokenizer.ggml.eos_token_id`.
    public var eosTokenID: Int?
    /// `tokenizer.ggml.unknown_token_id`.
    public var unknownTokenID: Int?
    /// `tokenizer.ggml.padding_token_id`.
    public var paddingTokenID: Int?
    /// `tokenizer.ggml.add_bos_token`.
    public var addBOS: Bool?
    /// `tokenizer.ggml.add_eos_token`.
    public var addEOS: Bool?
    /// `tokenizer.chat_template`.
    public var chatTemplate: String?
    /// `tokenizer.ggml.add_space_prefix` (SentencePiece vocabularies; absent means true).
    public var addSpacePrefix: Bool?
    /// `general.architecture` (`llama`, `phi3`, `gptneox`, …): some tokenizer flags depend on it.
    public var architecture: String?

    /// Reads the vocabulary; `tokenizer.ggml.model` and `.tokens` are required.
    public init(_ metadata: GGUFMetadata) throws(GGUFError) {
        model = try metadata.string("tokenizer.ggml.model")
        preTokenizer = try metadata.optional("tokenizer.ggml.pre")
        tokens = try metadata.strings("tokenizer.ggml.tokens")
        tokenTypes = try metadata.optional("tokenizer.ggml.token_type")
        scores = try metadata.optional("tokenizer.ggml.scores")
        merges = try metadata.optional("tokenizer.ggml.merges")
        bosTokenID = try metadata.optional("tokenizer.ggml.bos_token_id")
        eosTokenID = try metadata.optional("tokenizer.ggml.eos_token_id")
        unknownTokenID = try metadata.optional("tokenizer.ggml.unknown_token_id")
        paddingTokenID = try metadata.optional("tokenizer.ggml.padding_token_id")
        addBOS = try metadata.optional("tokenizer.ggml.add_bos_token")
        addEOS = try metadata.optional("tokenizer.ggml.add_eos_token")
        chatTemplate = try metadata.optional("tokenizer.chat_template")
        addSpacePrefix = try metadata.optional("tokenizer.ggml.add_space_prefix")
        architecture = try metadata.optional("general.architecture")
    }
}
