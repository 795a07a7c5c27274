import Foundation
import Testing
@testable import NNsightGGUF

@Suite struct HalfFloatTests {
    @Test("every half-precision bit pattern converts exactly (checked against Swift's Float16)")
    func allHalfValues() {
        var mismatches = 0
        for bits in 0 ... UInt16.max {
            let ours = HalfFloat.float(fromBits: bits)
            let reference = Float(Float16(bitPattern: bits))
            if reference.isNaN {
                if !ours.isNaN { mismatches += 1 }
            } else if ours.bitPattern != reference.bitPattern {
                mismatches += 1
            }
            if HalfFloat.table[Int(bits)].bitPattern != ours.bitPattern { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }
}

private struct PermuteCase: Decodable {
    var name: String
    var head_count: Int
    var rows: Int
    var cols: Int
    var hf: [UInt32]
    var gguf: [UInt32]
}

private struct PermuteFixture: Decodable { var cases: [PermuteCase] }

@Suite struct LlamaQKPermutationTests {
    @Test("unpermute inverts convert_hf_to_gguf.py's permute (q, k with GQA, MHA)")
    func matchesConvertScript() throws {
        let fixture = try Fixtures.decode(PermuteFixture.self, "llama_permute.json")
        #expect(fixture.cases.count == 3)
        for c in fixture.cases {
            let stored = c.gguf.map(Float.init(bitPattern:))
            let restored = try LlamaQKPermutation.unpermute(stored, rows: c.rows, columns: c.cols, headCount: c.head_count)
            #expect(restored.map(\.bitPattern) == c.hf, "case \(c.name)")
            let hf = c.hf.map(Float.init(bitPattern:))
            let permuted = try LlamaQKPermutation.permute(hf, rows: c.rows, columns: c.cols, headCount: c.head_count)
            #expect(permuted.map(\.bitPattern) == c.gguf, "case \(c.name)")
            #expect(restored != stored)
        }
    }

    @Test("bad arguments are errors")
    func rejectsBadShapes() {
        #expect(throws: GGUFError.self) { try LlamaQKPermutation.unpermute([Float](repeating: 0, count: 6), rows: 3, columns: 2, headCount: 1) }
        #expect(throws: GGUFError.self) { try LlamaQKPermutation.unpermute([Float](repeating: 0, count: 8), rows: 4, columns: 3, headCount: 1) }
        #expect(throws: GGUFError.self) { try LlamaQKPermutation.unpermute([Float](repeating: 0, count: 8), rows: 4, columns: 2, headCount: 0) }
        #expect(throws: GGUFError.self) { try LlamaQKPermutation.unpermute([Float](repeating: 0, count: 8), rows: 4, columns: 2, headCount: 3) }
    }
}
