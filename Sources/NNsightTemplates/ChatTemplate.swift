import Foundation

/// One message of a conversation: a role (`system`, `user`, `assistant`, `tool`, …), its
/// content, and any other fields a template reads (`tool_calls`, `reasoning_content`, …).
///
/// ```python
/// {"role": "user", "content": "Hello"}
/// ```
/// ```swift
/// ChatMessage.user("Hello")
/// ```
public struct ChatMessage: Sendable {
    public var role: String
    /// A string, or a list of content parts (`[{"type": "text", "text": …}]`).
    public var content: TemplateValue
    /// Further fields, after `role` and `content`, in order.
    public var fields: TemplateDictionary

    public init(role: String, content: TemplateValue, fields: TemplateDictionary = TemplateDictionary()) {
        self.role = role
        self.content = content
        self.fields = fields
    }

    public init(role: String, content: String) {
        self.init(role: role, content: .string(content))
    }

    public static func system(_ content: String) -> ChatMessage { ChatMessage(role: "system", content: content) }
    public static func user(_ content: String) -> ChatMessage { ChatMessage(role: "user", content: content) }
    public static func assistant(_ content: String) -> ChatMessage { ChatMessage(role: "assistant", content: content) }

    /// The message as the template sees it: a dictionary, with transformers' aliases of the
    /// reasoning fields (`reasoning_content`, `thinking`, `reasoning` all set when one is).
    var templateValue: TemplateValue {
        var dictionary = TemplateDictionary()
        dictionary["role"] = .string(role)
        dictionary["content"] = content
        for (key, value) in fields.items { dictionary[key] = value }
        let reasoningFields = ["reasoning_content", "thinking", "reasoning"]
        let reasoning = reasoningFields.lazy.compactMap { key -> TemplateValue? in
            guard let value = dictionary[key], !Self.isNone(value) else { return nil }
            return value
        }.first
        if let reasoning {
            var aliased = TemplateDictionary()
            aliased["thinking"] = reasoning
            for (key, value) in dictionary.items { aliased[key] = value }
            aliased["reasoning_content"] = reasoning
            dictionary = aliased
        }
        return .dictionary(dictionary)
    }

    private static func isNone(_ value: TemplateValue) -> Bool {
        if case .none = value { return true }
        return false
    }
}

/// A model's chat template (`chat_template` of `tokenizer_config.json`, or GGUF's
/// `tokenizer.chat_template`) with the special tokens it is rendered with.
///
/// ```python
/// text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
/// ```
/// ```swift
/// let text = try chatTemplate.apply(messages, addGenerationPrompt: true)
/// ```
/// The output is byte-identical to transformers' `apply_chat_template`: the template sees
/// `messages`, `tools` and `documents` (`None`), `add_generation_prompt`, the special tokens
/// (`bos_token`, `eos_token`, …) and any extra `variables` (`date_string`, `enable_thinking`).
public struct ChatTemplate: Sendable {
    public let template: Template
    /// The special tokens the template can read, by name (`"bos_token": "<s>"`).
    public let specialTokens: [String: String]

    /// Parses `source`; a syntax error throws ``TemplateError`` with its line.
    public init(_ source: String, specialTokens: [String: String] = [:]) throws(TemplateError) {
        template = try Template(source)
        self.specialTokens = specialTokens
    }

    /// The template's source text.
    public var source: String { template.source }

    /// Renders a conversation. `addGenerationPrompt` appends the header of the assistant's
    /// turn; `variables` add or override template variables; `now` is what `strftime_now` sees.
    public func apply(
        _ messages: [ChatMessage], addGenerationPrompt: Bool = false, variables: [String: TemplateValue] = [:], now: Date = Date()
    ) throws(TemplateError) -> String {
        var context: [String: TemplateValue] = [:]
        for (name, token) in specialTokens { context[name] = .string(token) }
        context["messages"] = .array(messages.map(\.templateValue))
        context["tools"] = TemplateValue.none
        context["documents"] = TemplateValue.none
        context["add_generation_prompt"] = .bool(addGenerationPrompt)
        for (name, value) in variables { context[name] = value }
        return try template.render(context, now: now)
    }
}
