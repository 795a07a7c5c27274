import Foundation
import NNsightTemplates

/// A tokenizer's chat template: read from `tokenizer_config.json` (or `chat_template.jinja`)
/// beside `tokenizer.json`, or from a GGUF file's `tokenizer.chat_template`, and applied to a
/// conversation as transformers' `apply_chat_template` does.
///
/// ```python
/// tok = AutoTokenizer.from_pretrained(folder)
/// text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
/// ids = tok.apply_chat_template(messages, add_generation_prompt=True)
/// ```
/// ```swift
/// let tok = try Tokenizer(folder: folder)
/// let text = try tok.applyChatTemplate(messages, addGenerationPrompt: true)
/// let ids = try tok.encodeChat(messages, addGenerationPrompt: true)
/// ```
extension Tokenizer {
    /// Loads `tokenizer.json` from `folder` with the chat template and special tokens of its
    /// `tokenizer_config.json` (a `chat_template.jinja` file, which newer transformers saves,
    /// takes precedence over the config's `chat_template`). Files other than `tokenizer.json`
    /// are optional.
    public convenience init(folder: URL) throws(TokenizerError) {
        let tokenizerURL = folder.appendingPathComponent("tokenizer.json")
        let data: Data
        do {
            data = try Data(contentsOf: tokenizerURL)
        } catch {
            throw .unreadable(path: tokenizerURL.path, reason: error.localizedDescription)
        }
        var source: String?
        var special: [String: String] = [:]
        let configURL = folder.appendingPathComponent("tokenizer_config.json")
        if let configData = try? Data(contentsOf: configURL) {
            (source, special) = try Self.chatSettings(tokenizerConfig: configData, path: configURL.path)
        }
        if let jinja = try? String(contentsOf: folder.appendingPathComponent("chat_template.jinja"), encoding: .utf8) {
            source = jinja
        }
        let base = try Tokenizer(data: data)
        self.init(model: base.model, normalizer: base.normalizer, preTokenizer: base.preTokenizer, postProcessor: base.postProcessor,
                  decoder: base.decoder, addedTokens: base.addedTokens, padding: base.padding, truncation: base.truncation,
                  chatTemplateSource: source, specialTokenStrings: special)
    }

    /// The chat template and special tokens of a `tokenizer_config.json`. `chat_template` is a
    /// string, or a list of `{"name", "template"}` of which the one named `default` is used.
    static func chatSettings(tokenizerConfig data: Data, path: String) throws(TokenizerError) -> (source: String?, specialTokens: [String: String]) {
        let root: TemplateValue
        do {
            root = try TemplateValue(json: String(decoding: data, as: UTF8.self))
        } catch {
            throw .invalidJSON(reason: "\(path): \(error)")
        }
        guard case let .dictionary(config) = root else { throw .malformed(path: path, reason: "expected a JSON object") }
        var special: [String: String] = [:]
        for name in ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"] {
            switch config[name] {
            case let .string(token)?: special[name] = token
            case let .dictionary(added)?:
                if case let .string(token)? = added["content"] { special[name] = token }
            default: break
            }
        }
        switch config["chat_template"] {
        case nil, .none?: return (nil, special)
        case let .string(source)?: return (source, special)
        case let .array(named)?:
            for entry in named {
                if case let .dictionary(item) = entry, case .string("default")? = item["name"], case let .string(source)? = item["template"] {
                    return (source, special)
                }
            }
            throw .malformed(path: path + ".chat_template", reason: "a list of named templates without one named \"default\"")
        default:
            throw .malformed(path: path + ".chat_template", reason: "expected a string or a list of named templates")
        }
    }

    /// This tokenizer with `source` as its chat template and `specialTokens` as the tokens the
    /// template sees (those already known are kept unless given again).
    public func withChatTemplate(_ source: String?, specialTokens: [String: String] = [:]) -> Tokenizer {
        Tokenizer(model: model, normalizer: normalizer, preTokenizer: preTokenizer, postProcessor: postProcessor, decoder: decoder,
                  addedTokens: addedTokens, padding: padding, truncation: truncation, chatTemplateSource: source,
                  specialTokenStrings: specialTokenStrings.merging(specialTokens) { $1 })
    }

    /// The special tokens transformers derives from a GGUF vocabulary's ids (`bos_token` is the
    /// token at `tokenizer.ggml.bos_token_id`, and so on).
    public static func specialTokenStrings(ggufVocabulary vocabulary: GGUFVocabulary) -> [String: String] {
        var special: [String: String] = [:]
        for (name, id) in [("bos_token", vocabulary.bosTokenId), ("eos_token", vocabulary.eosTokenId),
                           ("unk_token", vocabulary.unknownTokenId), ("pad_token", vocabulary.paddingTokenId)] {
            if let id, vocabulary.tokens.indices.contains(id) { special[name] = vocabulary.tokens[id] }
        }
        return special
    }

    /// The parsed chat template; nil when the tokenizer has none. A template this interpreter
    /// cannot parse throws ``TemplateError`` with its line (the tokenizer itself still loads).
    public func chatTemplate() throws(TemplateError) -> ChatTemplate? {
        guard let chatTemplateSource else { return nil }
        return try ChatTemplate(chatTemplateSource, specialTokens: specialTokenStrings)
    }

    /// Renders a conversation with the chat template (`apply_chat_template(..., tokenize=False)`).
    /// `variables` add template variables (`enable_thinking`, `date_string`, …).
    ///
    /// Throws ``TokenizerError/noChatTemplate`` when the tokenizer has no template and
    /// ``TemplateError`` when the template fails to parse or rejects the conversation.
    public func applyChatTemplate(
        _ messages: [ChatMessage], addGenerationPrompt: Bool = false, variables: [String: TemplateValue] = [:]
    ) throws -> String {
        guard let template = try chatTemplate() else { throw TokenizerError.noChatTemplate }
        return try template.apply(messages, addGenerationPrompt: addGenerationPrompt, variables: variables)
    }

    /// The token ids of a rendered conversation (`apply_chat_template(...)`, which encodes
    /// without adding special tokens: the template writes them).
    public func encodeChat(
        _ messages: [ChatMessage], addGenerationPrompt: Bool = false, variables: [String: TemplateValue] = [:]
    ) throws -> [Int] {
        encode(try applyChatTemplate(messages, addGenerationPrompt: addGenerationPrompt, variables: variables), addSpecialTokens: false).ids
    }
}
