/// The tokenizer metadata of a GGUF file (`tokenizer.ggml.*`), as plain Swift values.
///
/// This target has no GGUF reader: the code that reads a GGUF file fills this in, and
/// ``Tokenizer/init(ggufVocabulary:)`` builds the tokenizer of the model's original
/// `tokenizer.json`, which `tokenizer.ggml.pre` (and for Phi-3 `general.architecture`) identifies.
/// Where transformers' GGUF loader (`AutoTokenizer.from_pretrained(dir, gguf_file=name)`) builds
/// something else, the original wins (the README's "GGUF files" section lists where and why).
public struct GGUFVocabulary: Sendable, Equatable {
    /// `tokenizer.ggml.model`: `"gpt2"` (byte-level BPE) or `"llama"` (SentencePiece BPE with byte fallback).
    public var model: String
    /// `tokenizer.ggml.pre`: the pre-tokenizer name (`"smollm"`, `"llama-bpe"`, `"qwen2"`, …).
    public var pre: String?
    /// `tokenizer.ggml.tokens`, indexed by id.
    public var tokens: [String]
    /// `tokenizer.ggml.token_type`: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
    public var tokenTypes: [Int]?
    /// `tokenizer.ggml.scores` (SentencePiece vocabularies).
    public var scores: [Float]?
    /// `tokenizer.ggml.merges`, each `"left right"`.
    public var merges: [String]?
    public var bosTokenId: Int?
    public var eosTokenId: Int?
    public var unknownTokenId: Int?
    public var paddingTokenId: Int?
    /// `tokenizer.ggml.add_bos_token`; nil means the model's default (true for `llama`, false for `gpt2`).
    public var addBOS: Bool?
    /// `tokenizer.ggml.add_eos_token`.
    public var addEOS: Bool?
    /// `tokenizer.ggml.add_space_prefix` (SentencePiece: put `▁` before the first word); default true.
    public var addSpacePrefix: Bool?
    /// `general.architecture` (`llama`, `phi3`, …): llama.cpp sets Phi-3's added-token flags by it.
    public var architecture: String?

    public init(
        model: String, pre: String? = nil, tokens: [String], tokenTypes: [Int]? = nil, scores: [Float]? = nil,
        merges: [String]? = nil, bosTokenId: Int? = nil, eosTokenId: Int? = nil, unknownTokenId: Int? = nil,
        paddingTokenId: Int? = nil, addBOS: Bool? = nil, addEOS: Bool? = nil, addSpacePrefix: Bool? = nil,
        architecture: String? = nil
    ) {
        self.model = model
        self.pre = pre
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.scores = scores
        self.merges = merges
        self.bosTokenId = bosTokenId
        self.eosTokenId = eosTokenId
        self.unknownTokenId = unknownTokenId
        self.paddingTokenId = paddingTokenId
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
        self.architecture = architecture
    }

    /// llama.cpp's token types.
    public enum TokenType: Int, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }
}

extension Tokenizer {
    /// Builds the tokenizer a GGUF file describes, giving the ids of the model's original
    /// `tokenizer.json`:
    ///
    /// - `gpt2`: byte-level BPE with the file's merges; `tokenizer.ggml.pre` picks the original's
    ///   pre-tokenizer (`llama-bpe` → Llama 3's split regex with `ignore_merges`, `qwen2` → Qwen 2's,
    ///   `falcon` → Falcon's punctuation/digit splits, `mpt` → GPT-NeoX's NFC normalizer, otherwise
    ///   GPT-2's regex).
    /// - `llama`: SentencePiece BPE with byte fallback; merges come from the scores (best first);
    ///   as in Llama 2's tokenizer.json, `▁` is prepended to each piece of text and replaces every
    ///   space; BOS is added unless the file says otherwise.
    ///
    /// Control tokens become special added tokens and user-defined tokens plain added tokens
    /// matched as the raw text the converter stored (`"  "` in GPT-NeoX), so `<|im_start|>` is
    /// matched whole. Python form: `tokenizers.Tokenizer.from_file("tokenizer.json")` of the
    /// original model, not `AutoTokenizer.from_pretrained(dir, gguf_file=name)`.
    public convenience init(ggufVocabulary vocabulary: GGUFVocabulary) throws(TokenizerError) {
        let tokens = vocabulary.tokens
        guard !tokens.isEmpty else { throw .malformed(path: "tokenizer.ggml.tokens", reason: "empty vocabulary") }
        if let types = vocabulary.tokenTypes, types.count != tokens.count {
            throw .malformed(path: "tokenizer.ggml.token_type", reason: "\(types.count) types for \(tokens.count) tokens")
        }
        for (key, id) in [("bos", vocabulary.bosTokenId), ("eos", vocabulary.eosTokenId), ("unknown", vocabulary.unknownTokenId), ("padding", vocabulary.paddingTokenId)] {
            if let id, !(0..<tokens.count).contains(id) {
                throw .malformed(path: "tokenizer.ggml.\(key)_token_id", reason: "id \(id) is outside the vocabulary of \(tokens.count)")
            }
        }
        switch vocabulary.model {
        case "gpt2": try self.init(byteLevelGGUF: vocabulary)
        case "llama": try self.init(sentencePieceGGUF: vocabulary)
        default: throw .unsupported(component: "tokenizer.ggml.model", type: vocabulary.model)
        }
    }

    private convenience init(byteLevelGGUF vocabulary: GGUFVocabulary) throws(TokenizerError) {
        // Tokens not written in the byte alphabet (added tokens the converter stored as raw text,
        // such as GPT-NeoX's "  ") are respelled, but never displace a token already spelled so.
        var vocab: [String: Int] = [:]
        vocab.reserveCapacity(vocabulary.tokens.count)
        var spelled: [String] = []
        spelled.reserveCapacity(vocabulary.tokens.count)
        var respelled: [(String, Int)] = []
        for (id, token) in vocabulary.tokens.enumerated() {
            let inAlphabet = token.unicodeScalars.allSatisfy { ByteLevelAlphabet.byte(for: $0) != nil }
            let spelling = inAlphabet ? token : ByteLevelAlphabet.encode(token)
            spelled.append(spelling)
            if inAlphabet { vocab[spelling] = id } else { respelled.append((spelling, id)) }
        }
        for (spelling, id) in respelled where vocab[spelling] == nil { vocab[spelling] = id }
        guard let mergeLines = vocabulary.merges else {
            throw .malformed(path: "tokenizer.ggml.merges", reason: "a gpt2 vocabulary needs merges")
        }
        var merges: [(String, String)] = []
        merges.reserveCapacity(mergeLines.count)
        for (index, line) in mergeLines.enumerated() {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw .malformed(path: "tokenizer.ggml.merges[\(index)]", reason: "expected \"left right\", got \"\(line)\"")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        let family = GGUFTokenizerFamily(pre: vocabulary.pre)
        let model = try BPEModel(
            vocab: vocab, merges: merges, unkToken: nil, fuseUnk: false, byteFallback: false,
            ignoreMerges: family.ignoresMerges, continuingSubwordPrefix: nil, endOfWordSuffix: nil, path: "tokenizer.ggml")
        let added = Self.ggufAddedTokens(vocabulary, spelled: spelled, byteLevel: true)
        self.init(
            model: model, normalizer: family.byteLevelNormalizer, preTokenizer: try family.byteLevelPreTokenizer(),
            postProcessor: Self.ggufTemplate(vocabulary, defaultBOS: false), decoder: .byteLevel, addedTokens: added)
    }

    private convenience init(sentencePieceGGUF vocabulary: GGUFVocabulary) throws(TokenizerError) {
        let tokens = vocabulary.tokens
        var vocab: [String: Int] = [:]
        vocab.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() { vocab[token] = id }
        let merges: [(String, String)]
        if let lines = vocabulary.merges {
            merges = lines.map { line in
                let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
            }
        } else {
            guard let scores = vocabulary.scores, scores.count == tokens.count else {
                throw .malformed(path: "tokenizer.ggml.scores", reason: "a llama vocabulary without merges needs one score per token")
            }
            merges = Self.mergesFromScores(tokens: tokens, scores: scores, vocab: vocab)
        }
        let model = try BPEModel(
            vocab: vocab, merges: merges, unkToken: nil, fuseUnk: true, byteFallback: true, ignoreMerges: false,
            continuingSubwordPrefix: nil, endOfWordSuffix: nil, path: "tokenizer.ggml")
        let addPrefix = vocabulary.addSpacePrefix ?? true
        var decoders: [Decoder] = [.replace(.literal(["▁"]), " "), .byteFallback, .fuse]
        if addPrefix { decoders.append(.strip(content: " ", start: 1, stop: 0)) }
        // Llama 2's, Mistral's and Phi-3's tokenizer.json (transformers' LlamaConverter, legacy):
        // every piece of text between added tokens gets a leading ▁, every space becomes ▁. (The
        // GGUF conversion in transformers uses Metaspace(prepend_scheme: first), which gives other
        // ids for leading spaces, whitespace-only text and text after an added token.)
        var normalizers: [Normalizer] = addPrefix ? [.prepend("▁")] : []
        normalizers.append(.replace(.literal([" "]), "▁"))
        self.init(
            model: model, normalizer: .sequence(normalizers),
            preTokenizer: nil,
            postProcessor: Self.ggufTemplate(vocabulary, defaultBOS: true), decoder: .sequence(decoders),
            addedTokens: Self.ggufAddedTokens(vocabulary, spelled: tokens, byteLevel: false))
    }

    /// Merges implied by SentencePiece scores (transformers' `generate_merges`): every split of
    /// every token into two tokens, best score first, shorter left parts first among equals.
    static func mergesFromScores(tokens: [String], scores: [Float], vocab: [String: Int]) -> [(String, String)] {
        var candidates: [(left: String, right: String, score: Float, order: Int)] = []
        var seen = Set<String>()
        // `dict(zip(tokens, scores))`: a repeated token keeps its first position and its last score.
        var lastScore: [String: Float] = [:]
        for (token, score) in zip(tokens, scores) { lastScore[token] = score }
        for token in tokens where seen.insert(token).inserted {
            let scalars = Array(token.unicodeScalars)
            guard scalars.count > 1 else { continue }
            var local: [(String, String, Int, Int)] = []
            for index in 1..<scalars.count {
                var left = String.UnicodeScalarView(), right = String.UnicodeScalarView()
                left.append(contentsOf: scalars[..<index])
                right.append(contentsOf: scalars[index...])
                let l = String(left), r = String(right)
                if let li = vocab[l], let ri = vocab[r] { local.append((l, r, li, ri)) }
            }
            local.sort { ($0.2, $0.3) < ($1.2, $1.3) }
            for (l, r, _, _) in local {
                candidates.append((l, r, lastScore[token]!, candidates.count))
            }
        }
        candidates.sort { a, b in
            if a.score != b.score { return a.score > b.score }
            let al = a.left.unicodeScalars.count, bl = b.left.unicodeScalars.count
            if al != bl { return al > bl }
            let ar = a.right.unicodeScalars.count, br = b.right.unicodeScalars.count
            if ar != br { return ar > br }
            return a.order < b.order
        }
        return candidates.map { ($0.left, $0.right) }
    }

    /// Control tokens (special) and user-defined tokens (not special), plus the bos/eos/unk/pad tokens.
    private static func ggufAddedTokens(_ vocabulary: GGUFVocabulary, spelled: [String], byteLevel: Bool) -> [AddedToken] {
        var added: [AddedToken] = []
        var seen = Set<Int>()
        let types = vocabulary.tokenTypes ?? []
        for (id, type) in types.enumerated() where type == GGUFVocabulary.TokenType.control.rawValue {
            let token = vocabulary.tokens[id]
            // In a byte-level vocabulary a control token outside the alphabet is a converter's mislabel.
            if byteLevel, !token.unicodeScalars.allSatisfy({ ByteLevelAlphabet.byte(for: $0) != nil }) { continue }
            if seen.insert(id).inserted { added.append(AddedToken(id: id, content: token, special: true)) }
        }
        for id in [vocabulary.bosTokenId, vocabulary.eosTokenId, vocabulary.unknownTokenId, vocabulary.paddingTokenId].compactMap({ $0 })
        where seen.insert(id).inserted {
            added.append(AddedToken(id: id, content: spelled[id], special: true))
        }
        // User-defined tokens are stored as the raw text they stand for (convert_hf_to_gguf.py
        // pre-normalizes them), so they are matched as that text.
        for (id, type) in types.enumerated() where type == GGUFVocabulary.TokenType.userDefined.rawValue {
            if seen.insert(id).inserted { added.append(AddedToken(id: id, content: vocabulary.tokens[id], special: false)) }
        }
        if vocabulary.architecture == "phi3" {
            // Phi-3's tokenizer.json: the chat tokens and </s> swallow the whitespace after them;
            // <unk>, <s> and <|endoftext|> do not (llama.cpp sets the same flags for Phi-3).
            for index in added.indices {
                let content = added[index].content
                added[index].rstrip = (added[index].special || content == "</s>")
                    && !["<unk>", "<s>", "<|endoftext|>"].contains(content)
            }
        }
        return added.sorted { $0.id < $1.id }
    }

    private static func ggufTemplate(_ vocabulary: GGUFVocabulary, defaultBOS: Bool) -> PostProcessor {
        var pieces: [PostProcessor.Piece] = []
        if vocabulary.addBOS ?? defaultBOS, let bos = vocabulary.bosTokenId { pieces.append(.special(ids: [bos], typeId: 0)) }
        pieces.append(.sequence(typeId: 0))
        if vocabulary.addEOS ?? false, let eos = vocabulary.eosTokenId { pieces.append(.special(ids: [eos], typeId: 0)) }
        return .template(single: pieces)
    }
}
