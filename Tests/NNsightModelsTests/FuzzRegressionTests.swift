import Foundation
import Testing
import NNsightModels

/// Inputs that the config.json fuzz target (Fuzz/, `scripts/fuzz config`) once crashed on, kept
/// in Tests/Fixtures/fuzz/config: each must now be a typed `ModelError` naming the field.
struct FuzzRegressionTests {
    static let inputs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fuzz/config")

    /// `"n_head": 0` in a GPT-2 config: `n_embd % n_head` divided by zero in validation.
    @Test func gpt2ConfigWithZeroHeadsIsATypedError() throws {
        let data = try Data(contentsOf: Self.inputs.appendingPathComponent("gpt2-n_head-zero.json"))
        let error = try #require(throws: ModelError.self) { try makeModel(configData: data, device: .meta) }
        #expect(error == .invalidConfig(field: "n_head", reason: "must be positive, got 0"))
    }
}
