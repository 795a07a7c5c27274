import Foundation
import Testing
@testable import NNsightGGUF

@Suite("typed metadata accessors")
struct GGUFMetadataTests {
    let metadata: GGUFMetadata

    init() throws {
        metadata = try GGUFFile(contentsOf: Fixtures.gguf("all_types.gguf")).metadata
    }

    @Test func scalars() throws {
        #expect(try metadata.int("test.u8") == 200)
        #expect(try metadata.int("test.i8") == -100)
        #expect(try metadata.int("test.u16") == 60000)
        #expect(try metadata.int("test.i16") == -30000)
        #expect(try metadata.int("test.u32") == 4_000_000_000)
        #expect(try metadata.int("test.i32") == -2_000_000_000)
        #expect(try metadata.int("test.i64") == Int(Int64.min))
        #expect(try metadata.float("test.f32") == Float(0.1))
        #expect(try metadata.double("test.f64") == -1.0 / 3.0)
        #expect(try metadata.bool("test.bool"))
        #expect(try metadata.string("test.string") == "héllo ✓ gguf")
        #expect(metadata["test.u64"] == .uint64(.max))
    }

    @Test func arrays() throws {
        #expect(try metadata.ints("test.arr_u8") == [1, 2, 255])
        #expect(try metadata.ints("test.arr_i8") == [-1, 0, 127])
        #expect(try metadata.ints("test.arr_u16") == [1, 65535])
        #expect(try metadata.ints("test.arr_i16") == [-32768, 5])
        #expect(try metadata.ints("test.arr_u32") == [7, 4_294_967_295])
        #expect(try metadata.ints("test.arr_i32") == [-5, 3, 2_147_483_647])
        #expect(try metadata.ints("test.arr_i64") == [Int(Int64.min), 9])
        #expect(try metadata.floats("test.arr_f32") == [0.5, -1.25, 1e-6])
        #expect(try metadata.value("test.arr_f64", as: [Double].self) == [0.1, -2.0])
        #expect(try metadata.bools("test.arr_bool") == [true, false, true])
        #expect(try metadata.strings("test.arr_string") == ["a", "", "ßç", "<0x0A>"])
        #expect(try metadata.value("test.arr_nested", as: [[Int]].self) == [[1, 2], [3]])
    }

    @Test("errors name the key and the types")
    func errors() {
        #expect(throws: GGUFError(.missingKey("nope"), file: Fixtures.gguf("all_types.gguf").path)) {
            try metadata.int("nope")
        }
        #expect(throws: GGUFError(.typeMismatch(key: "test.string", expected: "an integer", found: "STRING"),
                                  file: Fixtures.gguf("all_types.gguf").path)) {
            try metadata.int("test.string")
        }
        #expect(throws: GGUFError.self) { try metadata.string("test.u8") }
        #expect(throws: GGUFError.self) { try metadata.strings("test.arr_u8") }
        #expect(throws: GGUFError.self) { try metadata.bool("test.u8") }
        #expect(throws: GGUFError.self) { try metadata.float("test.i32") }
        do {
            _ = try metadata.int("test.u64")
            Issue.record("UInt64.max must not fit Int")
        } catch {
            guard case .valueOutOfRange(let key, _, let target) = error.reason else {
                Issue.record("unexpected \(error)"); return
            }
            #expect(key == "test.u64" && target == "Int")
            #expect(error.description.contains("test.u64"))
        }
        do {
            _ = try metadata.ints("test.arr_u64")
            Issue.record("an array holding UInt64.max must not fit [Int]")
        } catch {
            guard case .valueOutOfRange = error.reason else { Issue.record("unexpected \(error)"); return }
        }
    }

    @Test func optionals() throws {
        #expect(try metadata.optional("absent", as: Int.self) == nil)
        #expect(try metadata.optional("test.u8", as: Int.self) == 200)
        #expect(throws: GGUFError.self) { try metadata.optional("test.u8", as: String.self) }
    }

    @Test("llama hyperparameters and tokenizer vocabulary")
    func modelMetadata() throws {
        let config = try GGUFLlamaHyperparameters(metadata)
        #expect(config.architecture == "llama")
        #expect(config.blockCount == 2)
        #expect(config.contextLength == 128)
        #expect(config.embeddingLength == 64)
        #expect(config.feedForwardLength == 96)
        #expect(config.headCount == 4)
        #expect(config.headCountKV == 2)
        #expect(config.ropeFreqBase == 10000)
        #expect(config.rmsNormEpsilon == Float(1e-5))
        #expect(config.vocabSize == 5)
        let vocab = try GGUFTokenizerMetadata(metadata)
        #expect(vocab.model == "gpt2")
        #expect(vocab.preTokenizer == "smollm")
        #expect(vocab.tokens == ["<unk>", "<s>", "</s>", "a", "b"])
        #expect(vocab.tokenTypes == [2, 3, 3, 1, 1])
        #expect(vocab.scores == [0, 0, 0, -1.5, -2])
        #expect(vocab.merges == ["a b"])
        #expect(vocab.bosTokenID == 1 && vocab.eosTokenID == 2 && vocab.paddingTokenID == 2)
        #expect(vocab.unknownTokenID == nil)
        #expect(vocab.addBOS == true && vocab.addEOS == false)
        #expect(vocab.architecture == "llama")  // general.architecture, written by GGUFWriter(path, "llama")
        #expect(vocab.addSpacePrefix == nil)
    }
}
