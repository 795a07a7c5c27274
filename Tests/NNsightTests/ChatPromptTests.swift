import Foundation
import Testing
import NNsightTemplates
import NNsightTorch
@testable import NNsight

/// Chat messages are prompts: the default model's GGUF template renders them, and the ids are
/// those of transformers' `apply_chat_template` (Tests/Fixtures/chat-templates/chats.json).
@Suite struct ChatPromptTests {
    /// Parsed for each use, not kept in a `static let`: a value alive at exit is reported by
    /// LeakSanitizer (`scripts/sanitize address`), whose scan cannot follow an indirect enum's
    /// payload pointers (the case is kept in the pointer's spare bits).
    static func smol() -> TemplateValue {
        let url = LMFixtures.fixtures.appendingPathComponent("chat-templates/chats.json")
        let chats = try! TemplateValue(json: String(contentsOf: url, encoding: .utf8))
        guard case let .dictionary(root) = chats, case let .dictionary(templates)? = root["templates"], let smol = templates["smollm2"] else {
            fatalError("chats.json has no smollm2 entry")
        }
        return smol
    }

    /// The ids transformers gave for a conversation of chats.json.
    static func expectedIds(_ conversation: String, addGenerationPrompt: Bool) -> [Int] {
        guard case let .dictionary(smol) = smol(), case let .array(cases)? = smol["cases"] else { return [] }
        for case let .dictionary(item) in cases {
            guard case .string(conversation)? = item["conversation"], case .bool(addGenerationPrompt)? = item["add_generation_prompt"],
                  case let .array(ids)? = item["ids"] else { continue }
            return ids.compactMap { if case let .int(id) = $0 { return id } else { return nil } }
        }
        return []
    }

    @Test func messagesBecomeTheTemplatedIds() throws {
        let model = try SmolLM.model()
        let question = ChatMessage.user("What is the capital of France?")
        let expected = Self.expectedIds("user", addGenerationPrompt: true)
        #expect(!expected.isEmpty)
        #expect(try model.tokenRows([question]) == [expected])
        #expect(try model.tokenRows(question) == [expected])
        let system = [ChatMessage.system("You are a concise assistant."), question]
        let rows = try model.tokenRows([Chat([question]), Chat(system, addGenerationPrompt: false)])
        #expect(rows == [expected, Self.expectedIds("system-user", addGenerationPrompt: false)])
        #expect(try model.tokenRows([[question], system]).count == 2)
    }

    @Test func traceRunsOnAChat() throws {
        let model = try SmolLM.model()
        let ids = Self.expectedIds("user", addGenerationPrompt: true)
        let fromChat = try model.trace([ChatMessage.user("What is the capital of France?")]) { m in try m.lm_head.output[0, -1] }
        let fromIds = try model.trace(ids) { m in try m.lm_head.output[0, -1] }
        #expect(fromChat.shape == fromIds.shape)
        #expect(try fromChat.equal(fromIds))
    }

    @Test func aModelWithoutTemplateSaysSo() throws {
        let model = try tinyGPT2()
        #expect {
            try model.tokenRows(Chat([.user("Hi")]))
        } throws: { error in
            guard case let .invalidInput(message) = error as? NNsightError else { return false }
            return message.contains("no chat template")
        }
    }
}
