import Foundation
import Testing
@testable import NNsightGGUF

/// gguf-py's dequantization of quants.gguf (scripts/fixtures/gen_gguf_quants.py).
private struct QuantsDescription: Decodable {
    struct Checksums: Decodable {
        var sum: String
        var wsum: String
    }
    struct Tensor: Decodable {
        var name: String
        var type: String
        var dims: [Int]
        var n_bytes: Int
        var checksums: Checksums
        var f32_hex: String?
    }
    var tensors: [Tensor]
}

private let quantTypes: [GGMLType] = [.q5_0, .q5_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

@Suite("Q5_0, Q5_1 and K-quant dequantization, bit-exact with gguf-py")
struct QuantDequantizationTests {
    private static let expected: QuantsDescription? = try? Fixtures.decode(QuantsDescription.self, "quants.json")

    @Test("every tensor of quants.gguf equals gguf-py bit for bit", arguments: quantTypes)
    func matchesGGUFPy(_ type: GGMLType) throws {
        let expected = try #require(Self.expected)
        let file = try GGUFFile(contentsOf: Fixtures.gguf("quants.gguf"))
        let tensors = expected.tensors.filter { $0.type == type.description }
        // one block, several rows of several blocks, three dimensions, extreme bytes (+ real weights).
        #expect(tensors.count >= 4)
        for t in tensors {
            let info = try file.tensorInfo(t.name)
            #expect(info.type == type)
            #expect(info.dimensions == t.dims)
            #expect(info.byteCount == t.n_bytes)
            let values = try file.dequantize(t.name)
            #expect(values.count == info.elementCount)
            let finite = values.allSatisfy(\.isFinite)
            #expect(finite, "\(t.name)")
            let (sum, wsum) = bitChecksums(values)  // SmolLM2Tests.swift
            #expect(String(sum) == t.checksums.sum && String(wsum) == t.checksums.wsum,
                    "dequantized \(t.name) must equal gguf-py bit for bit")
            if let hex = t.f32_hex {
                let bits = bytes(hex: hex).withUnsafeBytes { raw in
                    (0 ..< raw.count / 4).map { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) }
                }
                #expect(values.map(\.bitPattern) == bits, "values of \(t.name)")
            }
        }
    }

    @Test("the raw-bytes API and dequantize(into:) agree with the file reader", arguments: quantTypes)
    func rawBytesAndIntoBuffer(_ type: GGMLType) throws {
        let file = try GGUFFile(contentsOf: Fixtures.gguf("quants.gguf"))
        let name = "\(type.description.lowercased()).rows"
        let data = try file.tensorData(name)
        let fromFile = try file.dequantize(name)
        let raw = try data.withUnsafeBytes { bytes throws(GGUFError) in
            try type.dequantize(bytes, elementCount: data.info.elementCount)
        }
        #expect(raw.map(\.bitPattern) == fromFile.map(\.bitPattern))
        var buffer = [Float](repeating: .nan, count: data.info.elementCount)
        try buffer.withUnsafeMutableBufferPointer { try data.dequantize(into: $0) }
        #expect(buffer.map(\.bitPattern) == fromFile.map(\.bitPattern))
        // Row r of the tensor is blocks r·k … r·k + k − 1: dequantizing one row's bytes alone
        // gives that row, so block offsets are computed per block and not per tensor.
        let rowElements = data.info.dimensions[0]
        let rowBytes = rowElements / type.blockSize * type.blockByteCount
        let lastRow = try data.withUnsafeBytes { bytes throws(GGUFError) in
            try type.dequantize(UnsafeRawBufferPointer(rebasing: bytes[(bytes.count - rowBytes)...]), elementCount: rowElements)
        }
        #expect(lastRow.map(\.bitPattern) == fromFile.suffix(rowElements).map(\.bitPattern))
    }

    @Test("sizes that are not whole blocks are typed errors", arguments: quantTypes)
    func malformedSizes(_ type: GGMLType) throws {
        let bytes = [UInt8](repeating: 0, count: 2 * type.blockByteCount)
        try bytes.withUnsafeBytes { raw in
            #expect(try type.dequantize(raw, elementCount: 2 * type.blockSize).count == 2 * type.blockSize)
            for (count, slice) in [(type.blockSize + 1, raw.count), (2 * type.blockSize, raw.count - 1),
                                   (type.blockSize, raw.count), (-type.blockSize, raw.count)] {
                let error = try #require(throws: GGUFError.self) {
                    try type.dequantize(UnsafeRawBufferPointer(rebasing: raw[..<slice]), elementCount: count)
                }
                guard case .invalidArgument(let why) = error.reason else {
                    Issue.record("expected invalidArgument, got \(error)")
                    continue
                }
                #expect(why.contains(type.description), "\(why)")
            }
        }

        // In a file: a first dimension that is not a multiple of the block size …
        let half = UInt64(type.blockSize / 2)
        var partial = Builder.header(tensors: 1, kvs: 0)
        partial.tensor("w", dims: [half, 4], type: type.rawValue, offset: 0)
        partial.data(2 * type.blockByteCount)
        #expect(throws: GGUFError.self) { try partial.parse() }
        do {
            _ = try partial.parse()
        } catch {
            guard case .invalidTensorShape(let tensor, let dims, _) = error.reason else {
                Issue.record("expected invalidTensorShape, got \(error)")
                return
            }
            #expect(tensor == "w" && dims == [half, 4])
        }

        // … and blocks that run past the end of the file.
        var short = Builder.header(tensors: 1, kvs: 0)
        short.tensor("w", dims: [UInt64(type.blockSize), 3], type: type.rawValue, offset: 0)
        short.data(3 * type.blockByteCount - 1)
        do {
            _ = try short.parse()
            Issue.record("a \(type) tensor one byte short parsed")
        } catch {
            guard case .tensorDataPastEnd(let tensor, _, let byteCount, _) = error.reason else {
                Issue.record("expected tensorDataPastEnd, got \(error)")
                return
            }
            #expect(tensor == "w" && byteCount == 3 * type.blockByteCount)
        }
    }

    @Test("types this library does not dequantize are typed errors, not traps")
    func unsupportedTypes() throws {
        for type in GGMLType.allCases where !type.isDequantizable {
            let bytes = [UInt8](repeating: 0, count: type.blockByteCount)
            try bytes.withUnsafeBytes { raw in
                let error = try #require(throws: GGUFError.self) { try type.dequantize(raw, elementCount: type.blockSize) }
                #expect(error.reason == .unsupportedTensorType(tensor: "(raw bytes)", type: type.description, operation: "dequantize"))
            }
        }
    }
}

@Suite("dequantizing a range of rows")
struct RowRangeDequantizationTests {
    /// Every range of rows of a multi-row tensor of each type (quants.gguf's `<type>.rows`, and
    /// all_types.gguf's tensors) equals the same rows of the whole tensor's dequantization, bit for bit.
    @Test("rows equal the matching slice of the whole", arguments: ["quants.gguf", "all_types.gguf"])
    func rowsEqualTheWholeTensorsSlice(_ fixture: String) throws {
        let file = try GGUFFile(contentsOf: Fixtures.gguf(fixture))
        var checked = 0
        for info in file.tensors where info.type.isDequantizable && info.elementCount > info.dimensions[0] {
            let width = info.dimensions[0], rowCount = info.elementCount / width
            let whole = try file.dequantize(info.name)
            let data = try file.tensorData(info.name)
            for rows in [0..<1, (rowCount - 1)..<rowCount, 1..<rowCount, 0..<rowCount, 1..<1] {
                var buffer = [Float](repeating: .nan, count: rows.count * width)
                try buffer.withUnsafeMutableBufferPointer { try data.dequantize(rows: rows, into: $0) }
                #expect(buffer.map(\.bitPattern) == whole[(rows.lowerBound * width)..<(rows.upperBound * width)].map(\.bitPattern),
                        "\(info.name) rows \(rows)")
            }
            checked += 1
        }
        #expect(checked >= 5)
    }

    @Test("rows past the end and a destination of another size are typed errors")
    func outOfRangeRows() throws {
        let file = try GGUFFile(contentsOf: Fixtures.gguf("quants.gguf"))
        let data = try file.tensorData("q4_k.rows")
        let width = data.info.dimensions[0], rowCount = data.info.elementCount / width
        for (rows, count) in [(rowCount - 1..<rowCount + 1, 2 * width), (0..<1, width + 1)] {
            var buffer = [Float](repeating: 0, count: count)
            let error = try #require(throws: GGUFError.self) {
                try buffer.withUnsafeMutableBufferPointer { try data.dequantize(rows: rows, into: $0) }
            }
            guard case .invalidArgument(let why) = error.reason else {
                Issue.record("expected invalidArgument, got \(error)")
                continue
            }
            #expect(why.contains("q4_k.rows"), "\(why)")
        }
    }
}
