import Foundation
import Testing
import NNsightTemplates

/// Each model family's chat template renders every conversation byte for byte as
/// transformers' `apply_chat_template` does, and rejects the same conversations with the
/// same `raise_exception` message.
@Suite struct ChatTemplateParityTests {
    @Test(arguments: Fixtures.templateNames)
    func rendersLikeTransformers(name: String) throws {
        let fixture = Fixtures.chats["templates"][name]
        var special: [String: String] = [:]
        for (key, value) in fixture["special_tokens"].dictionaryValue.items { special[key] = value.stringValue }
        let template = try ChatTemplate(fixture["source"].stringValue, specialTokens: special)
        let cases = fixture["cases"].arrayValue
        #expect(cases.count == 18)
        let now = Date(timeIntervalSince1970: TimeInterval(Fixtures.chats["now_epoch"].intValue ?? 0))
        for item in cases {
            let conversation = item["conversation"].stringValue
            let addGenerationPrompt = item["add_generation_prompt"].boolValue
            let label = "\(name) \(conversation) add_generation_prompt=\(addGenerationPrompt)"
            let messages = Fixtures.conversation(conversation)
            #expect(!messages.isEmpty)
            var variables = fixture["variables"].variables
            if conversation == "tool-call" { variables["tools"] = Fixtures.chats["tools"] }
            do {
                let text = try template.apply(messages, addGenerationPrompt: addGenerationPrompt, variables: variables, now: now)
                #expect(!item["expected"].isNone, "\(label): rendered but transformers raised \(item["error"].stringValue)")
                #expect(text == item["expected"].stringValue, "\(label)")
            } catch {
                switch item["error_type"].stringValue {
                case "TemplateError":
                    // raise_exception: the same message.
                    #expect(error == .raised(message: item["error"].stringValue, line: error.line, column: error.column), "\(label)")
                case "":
                    Issue.record("\(label): transformers rendered, we threw \(error)")
                default:
                    // Python failed inside the template (iterating None, an undefined value): a runtime error here.
                    if case .runtime = error {} else { Issue.record("\(label): expected a runtime error, got \(error)") }
                }
            }
        }
    }

    /// Llama 3.1 dates its system prompt with `strftime_now("%d %b %Y")` when no `date_string`
    /// is given: at noon UTC on 26 Jul 2024 (that day in every time zone) it renders exactly
    /// what transformers rendered with `date_string="26 Jul 2024"`.
    @Test func strftimeNowDatesTheLlamaSystemPrompt() throws {
        let fixture = Fixtures.chats["templates"]["llama-3.1-8b-instruct"]
        #expect(fixture["variables"]["date_string"].stringValue == "26 Jul 2024")
        let template = try ChatTemplate(fixture["source"].stringValue, specialTokens: ["bos_token": "<|begin_of_text|>"])
        let noon = Date(timeIntervalSince1970: 1_721_995_200)  // 2024-07-26T12:00:00Z
        let expected = fixture["cases"].arrayValue.first { $0["conversation"].stringValue == "multi-turn" && $0["add_generation_prompt"].boolValue }!
        let text = try template.apply(Fixtures.conversation("multi-turn"), addGenerationPrompt: true, now: noon)
        #expect(text == expected["expected"].stringValue)
        #expect(text.contains("Today Date: 26 Jul 2024"))
    }

    /// Content given as a list of parts (the multimodal form) goes through Gemma 3's loop over parts.
    @Test func contentPartsRenderLikeText() throws {
        let fixture = Fixtures.chats["templates"]["gemma-3-written-by-us"]
        let template = try ChatTemplate(fixture["source"].stringValue, specialTokens: ["bos_token": "<bos>"])
        let parts = ChatMessage(role: "user", content: [["type": "text", "text": " What is the capital of France? "]])
        let plain = fixture["cases"].arrayValue.first { $0["conversation"].stringValue == "user" && $0["add_generation_prompt"].boolValue }!
        #expect(try template.apply([parts], addGenerationPrompt: true) == plain["expected"].stringValue)
    }
}
