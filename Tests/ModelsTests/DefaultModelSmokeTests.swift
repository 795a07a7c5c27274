import Foundation
import Testing
import Torch
@testable import Models

@Test func smolLMAnswersParis() throws {
    try Torch.setNumThreads(1)
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".models/SmolLM2-135M-Instruct.Q4_1.gguf").path
    let start = Date()
    let loaded = try Models.load(path: path)
    print("load", Date().timeIntervalSince(start))
    let tokenizer = try #require(loaded.tokenizer)
    let ids = tokenizer.encode("The capital of France is").ids
    print(ids)
    let input = try Tensor(ids, shape: [1, ids.count])
    let t2 = Date()
    let out = try generate(loaded.model, inputIds: input, options: GenerationOptions(maxNewTokens: 8))
    print("gen", Date().timeIntervalSince(t2))
    let newIds = try out.toArray(Int.self).suffix(8)
    let text = tokenizer.decode(Array(newIds))
    print(text)
    #expect(text.hasPrefix(" Paris"))
}
