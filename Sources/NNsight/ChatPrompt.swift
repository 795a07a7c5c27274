import NNsightTemplates
import NNsightTokenizers

/// A conversation as a prompt: rendered with the model's chat template (from
/// `tokenizer_config.json` or the GGUF's `tokenizer.chat_template`) and encoded without added
/// special tokens, as `tokenizer.apply_chat_template(messages, add_generation_prompt=True)` does.
///
/// ```python
/// ids = model.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt")
/// with model.trace(ids): ...
/// ```
/// ```swift
/// try model.trace(Chat([.system("Be brief."), .user("What is the capital of France?")])) { m in ... }
/// try model.trace([ChatMessage.user("Hi")]) { m in ... }  // a [ChatMessage] is a Chat
/// ```
/// A list of chats (`[[ChatMessage]]` or `[Chat]`) is a batch, one row per conversation.
public struct Chat: PromptConvertible, Sendable {
    public var messages: [ChatMessage]
    /// Append the header of the assistant's turn (true by default: the model answers next).
    public var addGenerationPrompt: Bool
    /// Extra template variables (`enable_thinking`, `date_string`, …).
    public var variables: [String: TemplateValue]

    public init(_ messages: [ChatMessage], addGenerationPrompt: Bool = true, variables: [String: TemplateValue] = [:]) {
        self.messages = messages
        self.addGenerationPrompt = addGenerationPrompt
        self.variables = variables
    }

    public func tokenRows(_ tokenizer: Tokenizer) throws -> [[Int]] {
        guard tokenizer.chatTemplateSource != nil else {
            throw NNsightError.invalidInput(
                "this model's tokenizer has no chat template (no chat_template in tokenizer_config.json or tokenizer.chat_template in the GGUF); pass a string prompt instead")
        }
        return [try tokenizer.encodeChat(messages, addGenerationPrompt: addGenerationPrompt, variables: variables)]
    }
}

/// One message alone is a conversation of one message.
extension ChatMessage: PromptConvertible {
    public func tokenRows(_ tokenizer: Tokenizer) throws -> [[Int]] { try Chat([self]).tokenRows(tokenizer) }
}
