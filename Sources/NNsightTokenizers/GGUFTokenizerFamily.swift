/// What a GGUF file's `tokenizer.ggml.pre` says about the model's original `tokenizer.json`.
///
/// llama.cpp's converter names the pre-tokenizer by hashing the original tokenizer's output on a
/// probe text, so the name identifies the original's pipeline. A byte-level (`gpt2`) vocabulary is
/// rebuilt with that pipeline, which is where this library and transformers' GGUF loader part:
///
/// | `pre` | original (tokenizer.json) | transformers' GGUF loader |
/// | --- | --- | --- |
/// | `llama-bpe`, `llama3`, … | Llama 3's split regex + ByteLevel, BPE `ignore_merges` | drops `ignore_merges` |
/// | `falcon` | Punctuation + ByteLevel + Digits + Split(`[0-9]{3}`) | GPT-2's regex only |
/// | `mpt` (GPT-NeoX, Pythia, MPT) | NFC normalizer, ByteLevel | no normalizer |
/// | `qwen2`, `tekken`, `gpt-4o`, … | their split regex + ByteLevel | the same |
/// | anything else | GPT-2's ByteLevel regex | the same |
struct GGUFTokenizerFamily: Sendable {
    /// `tokenizer.ggml.pre`, or nil.
    var pre: String?

    /// Whether the original BPE model looks a whole pre-token up in the vocabulary before merging
    /// (`ignore_merges`). llama.cpp does the same for the names it treats as Llama 3's.
    var ignoresMerges: Bool {
        switch pre {
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2": true
        default: false
        }
    }

    /// The original's normalizer for a byte-level vocabulary.
    var byteLevelNormalizer: Normalizer? {
        pre == "mpt" ? .nfc : nil
    }

    /// The original's pre-tokenizer for a byte-level vocabulary.
    func byteLevelPreTokenizer() throws(TokenizerError) -> PreTokenizer {
        if pre == "falcon" {
            return .sequence([
                .punctuation(.contiguous),
                .byteLevel(addPrefixSpace: false, useRegex: true),
                .digits(individual: false),
                .split(try SplitPattern.regex("[0-9][0-9][0-9]", path: "tokenizer.ggml.pre"), .isolated, invert: false),
            ])
        }
        guard let regex = splitRegex else { return .byteLevel(addPrefixSpace: false, useRegex: true) }
        return .sequence([
            .split(try SplitPattern.regex(regex, path: "tokenizer.ggml.pre"), .isolated, invert: false),
            .byteLevel(addPrefixSpace: false, useRegex: false),
        ])
    }

    /// The split regex a `tokenizer.ggml.pre` name selects before ByteLevel (as in transformers'
    /// `GGUF_PRE_TOKENIZER_SPLITS`); nil means GPT-2's, built into `ByteLevel`.
    var splitRegex: String? {
        switch pre {
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano",
             "dbrx", "smaug-bpe":
            SplitPattern.llama3Source
        case "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez":
            SplitPattern.qwen2Source
        case "tekken":
            #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"#
                + #"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*"#
                + #"|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        case "gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2":
            #"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#
                + #"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"#
                + #"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        default:
            nil
        }
    }
}
