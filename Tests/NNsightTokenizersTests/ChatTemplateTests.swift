import Foundation
import Testing
import NNsightTemplates
import NNsightTokenizers

/// A tokenizer carries its model's chat template (from `tokenizer_config.json`,
/// `chat_template.jinja` or GGUF metadata) and applies it as transformers' `apply_chat_template` does.
@Suite struct ChatTemplateTests {
    /// Tests/Fixtures/chat-templates/chats.json, written by scripts/fixtures/gen_chat_templates.py.
    static let chats: TemplateValue = {
        let url = Fixtures.directory.deletingLastPathComponent().appendingPathComponent("chat-templates/chats.json")
        return try! TemplateValue(json: String(contentsOf: url, encoding: .utf8))
    }()

    static func field(_ value: TemplateValue, _ path: String...) -> TemplateValue {
        var current = value
        for key in path {
            guard case let .dictionary(dictionary) = current, let next = dictionary[key] else { return .none }
            current = next
        }
        return current
    }

    static func string(_ value: TemplateValue) -> String { if case let .string(text) = value { return text } else { return "" } }

    static func conversation(_ name: String) -> [ChatMessage] {
        guard case let .array(messages) = field(chats, "conversations", name) else { return [] }
        return messages.map { message in
            var fields = TemplateDictionary()
            if case let .dictionary(all) = message {
                for (key, value) in all.items where key != "role" && key != "content" { fields[key] = value }
            }
            return ChatMessage(role: string(field(message, "role")), content: field(message, "content"), fields: fields)
        }
    }

    /// The SmolLM2 cases: conversation name, add_generation_prompt, expected text and ids.
    static var smolCases: [(conversation: String, addGenerationPrompt: Bool, text: String, ids: [Int])] {
        guard case let .array(cases) = field(chats, "templates", "smollm2", "cases") else { return [] }
        return cases.map { item in
            var ids: [Int] = []
            if case let .array(values) = field(item, "ids") {
                ids = values.compactMap { if case let .int(id) = $0 { return id } else { return nil } }
            }
            var flag = false
            if case let .bool(value) = field(item, "add_generation_prompt") { flag = value }
            return (string(field(item, "conversation")), flag, string(field(item, "expected")), ids)
        }
    }

    /// SmolLM2's tokenizer built from its GGUF vocabulary, with the GGUF's template, gives the
    /// text and the ids of transformers' `apply_chat_template` on the same GGUF.
    @Test func ggufTokenizerAppliesSmolLM2Template() throws {
        let vocabulary = try Fixtures.ggufVocabulary("smollm2")
        let special = Tokenizer.specialTokenStrings(ggufVocabulary: vocabulary)
        var expectedSpecial: [String: String] = [:]
        if case let .dictionary(tokens) = Self.field(Self.chats, "templates", "smollm2", "special_tokens") {
            for (key, value) in tokens.items { expectedSpecial[key] = Self.string(value) }
        }
        #expect(special == expectedSpecial)
        let tokenizer = try Tokenizer(ggufVocabulary: vocabulary)
            .withChatTemplate(Self.string(Self.field(Self.chats, "templates", "smollm2", "source")), specialTokens: special)
        let cases = Self.smolCases
        #expect(cases.count == 18)
        for item in cases {
            let messages = Self.conversation(item.conversation)
            let variables = item.conversation == "tool-call" ? ["tools": Self.field(Self.chats, "tools")] : [:]
            #expect(try tokenizer.applyChatTemplate(messages, addGenerationPrompt: item.addGenerationPrompt, variables: variables) == item.text,
                    "\(item.conversation)")
            #expect(try tokenizer.encodeChat(messages, addGenerationPrompt: item.addGenerationPrompt, variables: variables) == item.ids,
                    "\(item.conversation)")
        }
    }

    /// A Hugging Face folder: the template and special tokens come from tokenizer_config.json
    /// (also in the list-of-named-templates form), and chat_template.jinja overrides them.
    @Test func folderReadsTokenizerConfig() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nnsight-chat-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: Fixtures.url("smollm2.tokenizer.json"), to: folder.appendingPathComponent("tokenizer.json"))
        let fixture = Self.field(Self.chats, "templates", "mistral-7b-instruct-v0.1")
        let source = Self.string(Self.field(fixture, "source"))
        let expected = Self.field(fixture, "cases")
        guard case let .array(cases) = expected, let multiTurn = cases.first(where: { Self.string(Self.field($0, "conversation")) == "multi-turn-no-system" }) else {
            Issue.record("fixture missing")
            return
        }
        let messages = Self.conversation("multi-turn-no-system")

        func writeConfig(_ chatTemplate: TemplateValue) throws {
            let config: TemplateValue = ["bos_token": ["content": "<s>", "lstrip": false], "eos_token": "</s>", "unk_token": "<unk>",
                                         "chat_template": chatTemplate]
            let json = try Template("{{ config|tojson }}").render(["config": config])
            try json.write(to: folder.appendingPathComponent("tokenizer_config.json"), atomically: true, encoding: .utf8)
        }

        try writeConfig(.string(source))
        let plain = try Tokenizer(folder: folder)
        #expect(plain.specialTokenStrings == ["bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"])
        #expect(try plain.applyChatTemplate(messages) == Self.string(Self.field(multiTurn, "expected")))

        try writeConfig([["name": "tool_use", "template": "tools"], ["name": "default", "template": .string(source)]])
        #expect(try Tokenizer(folder: folder).applyChatTemplate(messages) == Self.string(Self.field(multiTurn, "expected")))

        try "{{ bos_token }}jinja file".write(to: folder.appendingPathComponent("chat_template.jinja"), atomically: true, encoding: .utf8)
        #expect(try Tokenizer(folder: folder).applyChatTemplate(messages) == "<s>jinja file")
    }

    @Test func missingAndBrokenTemplatesAreTypedErrors() throws {
        let plain = try Fixtures.tokenizer("smollm2")
        #expect(plain.chatTemplateSource == nil)
        #expect(throws: TokenizerError.noChatTemplate) { try plain.applyChatTemplate([.user("Hi")]) }
        // A template this interpreter cannot parse does not stop the tokenizer from loading.
        let broken = plain.withChatTemplate("{% for m in messages %}\n{{ m.content }}\n")
        #expect(broken.encode("Hi").ids == plain.encode("Hi").ids)
        #expect {
            try broken.applyChatTemplate([.user("Hi")])
        } throws: { error in
            guard case .syntax(_, let line, _) = error as? TemplateError else { return false }
            return line == 2  // jinja2 reports line 2 too: the trailing newline is dropped
        }
    }
}
