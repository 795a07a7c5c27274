// libFuzzer target: chat-template text in (a GGUF's tokenizer.chat_template is untrusted), a
// typed TemplateError or a rendered conversation out, never a crash, a hang or a runaway allocation.
import Foundation
import NNsightFuzzDriver
import NNsightTemplates

func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let bytes else { return 0 }
    let source = String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    guard let template = try? ChatTemplate(source, specialTokens: ["bos_token": "<s>", "eos_token": "</s>"]) else { return 0 }
    // Built per input (not as globals) so that LeakSanitizer's check at exit sees nothing live.
    let conversation: [ChatMessage] = [
        .system("You are a concise assistant."),
        .user("Hi! 日本 👩‍💻 {{ x }}"),
        ChatMessage(role: "assistant", content: "", fields: [
            "tool_calls": [["id": "call12345", "type": "function", "function": ["name": "f", "arguments": ["x": 1.5, "y": [true]]]]],
            "reasoning_content": "think",
        ]),
        ChatMessage(role: "tool", content: "{\"ok\": 1}", fields: ["tool_call_id": "call12345"]),
        .user("Thanks"),
    ]
    let tools: TemplateValue = [["type": "function", "function": ["name": "f", "description": "d", "parameters": ["type": "object"]]]]
    let now = Date(timeIntervalSince1970: 1_796_126_400)
    for addGenerationPrompt in [false, true] {
        _ = try? template.apply(conversation, addGenerationPrompt: addGenerationPrompt, variables: ["tools": tools], now: now)
    }
    _ = try? template.apply([], now: now)
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
