import Foundation

/// A Hugging Face tokenizer: normalizer → pre-tokenizer → model → post-processor, with added
/// tokens matched first and a decoder for the way back. Ids are identical to those of the
/// Python `tokenizers` library for the same `tokenizer.json`.
///
/// ```python
/// tok = Tokenizer.from_file("tokenizer.json")
/// ids = tok.encode("Hello world").ids
/// text = tok.decode(ids, skip_special_tokens=True)
/// ```
/// ```swift
/// let tok = try Tokenizer(contentsOf: URL(fileURLWithPath: "tokenizer.json"))
/// let ids = tok.encode("Hello world").ids
/// let text = tok.decode(ids, skipSpecialTokens: true)
/// ```
///
/// A `Tokenizer` is immutable and safe to share between threads.
public final class Tokenizer: Sendable {
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer?
    let model: BPEModel
    let postProcessor: PostProcessor?
    let decoder: Decoder?
    /// Added tokens, in file order.
    public let addedTokens: [AddedToken]
    private let addedById: [Int: AddedToken]
    private let addedByContent: [String: AddedToken]
    private let rawMatcher: AddedTokenMatcher
    private let normalizedMatcher: AddedTokenMatcher
    /// Padding applied by `encode` and `encodeBatch` unless overridden (the file's `padding`).
    public let padding: PaddingOptions?
    /// Truncation applied by `encode` unless overridden (the file's `truncation`).
    public let truncation: TruncationOptions?
    /// The chat template's source (`tokenizer_config.json`'s `chat_template`, or GGUF's
    /// `tokenizer.chat_template`), parsed when applied; see `applyChatTemplate`.
    public let chatTemplateSource: String?
    /// The special tokens a chat template sees, by name (`bos_token`, `eos_token`, …).
    public let specialTokenStrings: [String: String]

    init(
        model: BPEModel, normalizer: Normalizer?, preTokenizer: PreTokenizer?, postProcessor: PostProcessor?,
        decoder: Decoder?, addedTokens: [AddedToken], padding: PaddingOptions? = nil, truncation: TruncationOptions? = nil,
        chatTemplateSource: String? = nil, specialTokenStrings: [String: String] = [:]
    ) {
        self.model = model
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.postProcessor = postProcessor
        self.decoder = decoder
        self.addedTokens = addedTokens
        var byId: [Int: AddedToken] = [:]
        var byContent: [String: AddedToken] = [:]
        for token in addedTokens {
            byId[token.id] = token
            byContent[token.content] = token
        }
        addedById = byId
        addedByContent = byContent
        rawMatcher = AddedTokenMatcher(tokens: addedTokens.filter { !$0.normalized })
        normalizedMatcher = AddedTokenMatcher(tokens: addedTokens.filter { $0.normalized }, normalize: normalizer.map { n in { n.normalize($0) } })
        self.padding = padding
        self.truncation = truncation
        self.chatTemplateSource = chatTemplateSource
        self.specialTokenStrings = specialTokenStrings
    }

    /// Loads a `tokenizer.json` file (`Tokenizer.from_file(path)` in Python).
    public convenience init(contentsOf url: URL) throws(TokenizerError) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
        try self.init(data: data)
    }

    /// Parses the contents of a `tokenizer.json` file (`Tokenizer.from_str(json)` in Python).
    public convenience init(data: Data) throws(TokenizerError) {
        let root = try JSONConfig.parse([UInt8](data))
        try self.init(config: root)
    }

    /// Parses `tokenizer.json` text.
    public convenience init(json: String) throws(TokenizerError) {
        try self.init(config: try JSONConfig.parse(Array(json.utf8)))
    }

    convenience init(config root: JSONConfig) throws(TokenizerError) {
        guard case .object = root.value else { throw root.malformed("expected a JSON object") }
        let model = try Self.loadModel(root.required("model"))
        let normalizer = try root["normalizer"].map { (c) throws(TokenizerError) in try Normalizer(config: c) }
        let preTokenizer = try root["pre_tokenizer"].map { (c) throws(TokenizerError) in try PreTokenizer(config: c) }
        let postProcessor = try root["post_processor"].map { (c) throws(TokenizerError) in try PostProcessor(config: c) }
        let decoder = try root["decoder"].map { (c) throws(TokenizerError) in try Decoder(config: c) }
        var added: [AddedToken] = []
        for item in try root["added_tokens"]?.asArray() ?? [] {
            added.append(AddedToken(
                id: try item.required("id").asInt(), content: try item.required("content").asString(),
                singleWord: try item.bool("single_word", default: false), lstrip: try item.bool("lstrip", default: false),
                rstrip: try item.bool("rstrip", default: false), normalized: try item.bool("normalized", default: true),
                special: try item.bool("special", default: false)))
        }
        var padding: PaddingOptions? = nil
        if let config = root["padding"] {
            var length = PaddingOptions.Length.longest
            if let strategy = config["strategy"], case let .object(object) = strategy.value, object["Fixed"] != nil {
                length = .fixed(try strategy.required("Fixed").asInt())
            }
            let direction = try config.string("direction", default: "Right")
            padding = PaddingOptions(
                length: length, direction: direction == "Left" ? .left : .right, padId: try config.int("pad_id", default: 0),
                padTypeId: try config.int("pad_type_id", default: 0), padToMultipleOf: try config.optionalInt("pad_to_multiple_of"))
        }
        var truncation: TruncationOptions? = nil
        if let config = root["truncation"] {
            let direction = try config.string("direction", default: "Right")
            truncation = TruncationOptions(maxLength: try config.required("max_length").asInt(), direction: direction == "Left" ? .left : .right)
        }
        self.init(model: model, normalizer: normalizer, preTokenizer: preTokenizer, postProcessor: postProcessor,
                  decoder: decoder, addedTokens: added, padding: padding, truncation: truncation)
    }

    private static func loadModel(_ config: JSONConfig) throws(TokenizerError) -> BPEModel {
        // Old files have no "type": a model with merges is BPE.
        let type = try config.optionalString("type") ?? (config["merges"] != nil ? "BPE" : "")
        guard type == "BPE" else { throw .unsupported(component: "model", type: type.isEmpty ? "(none)" : type) }
        let vocabConfig = try config.required("vocab")
        var vocab: [String: Int] = [:]
        let object = try vocabConfig.asObject()
        vocab.reserveCapacity(object.count)
        for (token, value) in object {
            guard case let .number(number) = value, number >= 0, number == number.rounded(), number < 1e9 else {
                throw .malformed(path: vocabConfig.path + "." + token, reason: "expected a token id")
            }
            vocab[token] = Int(number)
        }
        var merges: [(String, String)] = []
        if let mergesConfig = config["merges"] {
            guard case let .array(items) = mergesConfig.value else { throw mergesConfig.malformed("expected an array") }
            merges.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                switch item {
                case let .string(line):
                    let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                    guard parts.count == 2 else {
                        throw .malformed(path: mergesConfig.path + "[\(index)]", reason: "expected \"left right\", got \"\(line)\"")
                    }
                    merges.append((String(parts[0]), String(parts[1])))
                case let .array(pair) where pair.count == 2:
                    guard case let .string(left) = pair[0], case let .string(right) = pair[1] else { fallthrough }
                    merges.append((left, right))
                default:
                    throw .malformed(path: mergesConfig.path + "[\(index)]", reason: "expected a pair of tokens")
                }
            }
        }
        if let dropout = config["dropout"], try dropout.asDouble() > 0 {
            throw .unsupported(component: "model", type: "BPE with dropout")
        }
        return try BPEModel(
            vocab: vocab, merges: merges, unkToken: try config.optionalString("unk_token"),
            fuseUnk: try config.bool("fuse_unk", default: false), byteFallback: try config.bool("byte_fallback", default: false),
            ignoreMerges: try config.bool("ignore_merges", default: false),
            continuingSubwordPrefix: try config.optionalString("continuing_subword_prefix"),
            endOfWordSuffix: try config.optionalString("end_of_word_suffix"), path: config.path)
    }

    // MARK: Vocabulary

    /// The id of a token, added tokens included (`token_to_id`).
    public func tokenToId(_ token: String) -> Int? { addedByContent[token]?.id ?? model.tokenToId(token) }

    /// The token for an id (`id_to_token`).
    public func idToToken(_ id: Int) -> String? { addedById[id]?.content ?? model.idToTokenString(id) }

    /// The number of ids, added tokens included (`get_vocab_size(with_added_tokens=True)`).
    public var vocabularySize: Int {
        var ids = Set(model.vocab.values)
        for token in addedTokens { ids.insert(token.id) }
        return ids.count
    }

    /// Whether `id` is a special added token (dropped by `decode(_:skipSpecialTokens: true)`).
    public func isSpecial(_ id: Int) -> Bool { addedById[id]?.special ?? false }

    // MARK: Encoding

    /// Encodes one text (`tokenizer.encode(text, add_special_tokens=...)`).
    ///
    /// The tokenizer's own truncation and padding settings apply unless `truncation` is given.
    public func encode(_ text: String, addSpecialTokens: Bool = true, truncation: TruncationOptions? = nil) -> Encoding {
        var encoding = encodeWithoutSpecials(text)
        if let truncation = truncation ?? self.truncation {
            let added = addSpecialTokens ? (postProcessor?.addedCount ?? 0) : 0
            encoding.truncate(to: max(0, truncation.maxLength - added), direction: truncation.direction)
        }
        if addSpecialTokens, let postProcessor { encoding = postProcessor.process(encoding) }
        if let padding, case let .fixed(length) = padding.length {
            encoding.pad(to: Self.rounded(length, padding.padToMultipleOf), padId: padding.padId, padTypeId: padding.padTypeId, direction: padding.direction)
        }
        return encoding
    }

    /// Encodes several texts and pads them to a common length
    /// (`tokenizer.encode_batch(texts)` after `enable_padding(...)`).
    public func encodeBatch(
        _ texts: [String], addSpecialTokens: Bool = true, padding: PaddingOptions? = nil, truncation: TruncationOptions? = nil
    ) -> [Encoding] {
        var encodings = texts.map { encode($0, addSpecialTokens: addSpecialTokens, truncation: truncation) }
        guard let padding = padding ?? self.padding else { return encodings }
        let target: Int
        switch padding.length {
        case .longest: target = encodings.map(\.count).max() ?? 0
        case let .fixed(length): target = length
        }
        let length = Self.rounded(target, padding.padToMultipleOf)
        for index in encodings.indices {
            encodings[index].pad(to: length, padId: padding.padId, padTypeId: padding.padTypeId, direction: padding.direction)
        }
        return encodings
    }

    private static func rounded(_ length: Int, _ multiple: Int?) -> Int {
        guard let multiple, multiple > 0, length % multiple != 0 else { return length }
        return (length / multiple + 1) * multiple
    }

    /// Added tokens, normalization, pre-tokenization and the model; no post-processing.
    private func encodeWithoutSpecials(_ text: String) -> Encoding {
        let scalars = Array(text.unicodeScalars)
        var ids: [Int] = []
        ids.reserveCapacity(scalars.count / 3 + 4)
        for (range, token) in rawMatcher.split(scalars) {
            if let token {
                ids.append(token.id)
            } else {
                encodeSegment(scalars[range], atStart: range.lowerBound == 0, into: &ids)
            }
        }
        return Encoding(ids: ids)
    }

    private func encodeSegment(_ segment: ArraySlice<Unicode.Scalar>, atStart: Bool, into ids: inout [Int]) {
        var scalars: [Unicode.Scalar]
        if let normalizer {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: segment)
            scalars = Array(normalizer.normalize(String(view)).unicodeScalars)
        } else {
            scalars = Array(segment)
        }
        if normalizedMatcher.isEmpty {
            encodeNormalized(scalars, atStart: atStart, into: &ids)
            return
        }
        for (range, token) in normalizedMatcher.split(scalars) {
            if let token {
                ids.append(token.id)
            } else {
                encodeNormalized(Array(scalars[range]), atStart: atStart && range.lowerBound == 0, into: &ids)
            }
        }
    }

    private func encodeNormalized(_ scalars: [Unicode.Scalar], atStart: Bool, into ids: inout [Int]) {
        var text = PreTokenizedString(scalars: scalars, atStart: atStart)
        preTokenizer?.preTokenize(&text)
        for piece in text.pieces where !piece.range.isEmpty {
            model.encode(text.scalars[piece.range], into: &ids)
        }
    }

    // MARK: Decoding

    /// Turns ids back into text (`tokenizer.decode(ids, skip_special_tokens=...)`).
    /// Unknown ids are skipped.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            if let added = addedById[id] {
                if skipSpecialTokens, added.special { continue }
                tokens.append(added.content)
            } else if let token = model.idToTokenString(id) {
                tokens.append(token)
            }
        }
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decodeChain(tokens).joined()
    }
}
