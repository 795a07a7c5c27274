import Foundation
import Testing
@testable import NNsightGGUF

private struct SmolLM2Description: Decodable {
    struct Checksum: Decodable { var sum: String; var wsum: String }
    struct Summary: Decodable { var count: Int?; var length: Int? }
    var version: UInt32
    var alignment: Int
    var data_offset: Int
    var file_size: Int
    var metadata: [String: GGUFDescription.Field]
    var tensors: [GGUFDescription.Tensor]
    var leading_f32_bits: [String: [UInt32]]
    var last_row_tail_f32_bits: [String: [UInt32]]
    var checksums: [String: Checksum]
}

/// The checksums smollm2.json defines: Σ bits and Σ bits·(i+1), both mod 2^64.
func bitChecksums(_ values: [Float]) -> (sum: UInt64, wsum: UInt64) {
    var sum: UInt64 = 0, wsum: UInt64 = 0
    for (i, v) in values.enumerated() {
        let bits = UInt64(v.bitPattern)
        sum &+= bits
        wsum &+= bits &* UInt64(i + 1)
    }
    return (sum, wsum)
}

@Suite("SmolLM2-135M-Instruct Q4_1 (the default model)", .enabled(if: Fixtures.smolLM2 != nil, "run scripts/setup to install the model"))
struct SmolLM2Tests {
    @Test("header, metadata, tensor table and dequantized values match gguf-py")
    func matchesGGUFPy() throws {
        let expected = try Fixtures.decode(SmolLM2Description.self, "smollm2.json")
        let file = try GGUFFile(contentsOf: Fixtures.smolLM2!)
        #expect(file.version == expected.version)
        #expect(file.alignment == expected.alignment)
        #expect(file.dataOffset == expected.data_offset)
        #expect(file.fileSize == expected.file_size)
        #expect(file.metadata.count == 33)
        for (key, field) in expected.metadata {
            let value = try #require(file.metadata[key])
            #expect(value.type.description == field.types[0], "\(key)")
        }
        #expect(file.tensors.count == 272)
        #expect(file.tensors.count == expected.tensors.count)
        for (info, t) in zip(file.tensors, expected.tensors) {
            #expect(info.name == t.name && info.type.description == t.type && info.dimensions == t.dims
                && info.offset == t.offset && info.byteCount == t.n_bytes, "\(t.name)")
        }
        for (name, bits) in expected.leading_f32_bits {
            let values = try file.dequantize(name)
            #expect(values.prefix(bits.count).map(\.bitPattern) == bits, "\(name) leading values")
            let tail = expected.last_row_tail_f32_bits[name]!
            #expect(values.suffix(tail.count).map(\.bitPattern) == tail, "\(name) trailing values")
        }
        for (name, sums) in expected.checksums {
            let (sum, wsum) = bitChecksums(try file.dequantize(name))
            #expect(String(sum) == sums.sum && String(wsum) == sums.wsum, "\(name): whole tensor differs from gguf-py")
        }
    }

    @Test("llama config and tokenizer vocabulary")
    func modelMetadata() throws {
        let file = try GGUFFile(contentsOf: Fixtures.smolLM2!)
        let config = try GGUFLlamaHyperparameters(file.metadata)
        #expect(config.architecture == "llama")
        #expect(config.blockCount == 30 && config.contextLength == 8192)
        #expect(config.embeddingLength == 576 && config.feedForwardLength == 1536)
        #expect(config.headCount == 9 && config.headCountKV == 3)
        #expect(config.ropeFreqBase == 100_000 && config.ropeDimensionCount == 64)
        #expect(config.rmsNormEpsilon == Float(1e-5) && config.vocabSize == 49152)
        let vocab = try GGUFTokenizerMetadata(file.metadata)
        #expect(vocab.model == "gpt2" && vocab.preTokenizer == "smollm")
        #expect(vocab.tokens.count == 49152)
        #expect(vocab.merges?.count == 48900)
        #expect(vocab.merges?.first == "Ġ t")
        #expect(vocab.tokenTypes?.count == 49152)
        #expect(vocab.bosTokenID == 1 && vocab.eosTokenID == 2 && vocab.paddingTokenID == 2 && vocab.unknownTokenID == 0)
        #expect(vocab.addBOS == false)
        #expect(vocab.chatTemplate?.hasPrefix("{% for message in messages %}") == true)
        #expect(try file.tensorInfo("blk.0.attn_k.weight").shape == [192, 576])
        #expect(try file.tensorInfo("token_embd.weight").type == .q8_0)
    }
}
