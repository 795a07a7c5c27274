import Foundation
import Testing
@testable import NNsightGGUF

/// Compares a parsed value with gguf-py's reading of it.
private func matches(_ value: GGUFValue, _ json: JSONValue) -> Bool {
    switch (value, json) {
    case (.string(let s), .string(let j)): return s == j
    case (.bool(let b), .bool(let j)): return b == j
    case (.float32(let f), _): return json.doubleValue.map { Float($0).bitPattern == f.bitPattern } ?? false
    case (.float64(let d), _): return json.doubleValue == d
    case (.uint64(let v), .uint(let j)): return v == j
    case (.uint64(let v), .int(let j)): return j >= 0 && v == UInt64(j)
    case (.array(_, let values), .array(let items)):
        return values.count == items.count && zip(values, items).allSatisfy { matches($0, $1) }
    default:
        guard let i = value.integerValue, case .int(let j) = json else { return false }
        return i == j
    }
}

@Suite("GGUF files written by gguf-py")
struct GGUFFixtureTests {
    @Test("all_types.gguf: header, every metadata value type, tensor table", arguments: ["all_types", "aligned64_v2"])
    func parsesLikeGGUFPy(_ name: String) throws {
        let expected = try Fixtures.decode(GGUFDescription.self, "\(name).json")
        let file = try GGUFFile(contentsOf: Fixtures.gguf("\(name).gguf"))
        #expect(file.version == expected.version)
        #expect(file.alignment == expected.alignment)
        #expect(file.dataOffset == expected.data_offset)
        #expect(file.fileSize == expected.file_size)
        #expect(Set(file.metadata.keys) == Set(expected.metadata.keys))
        for (key, field) in expected.metadata {
            let value = try #require(file.metadata[key], "missing \(key)")
            #expect(value.type.description == field.types[0], "type of \(key)")
            if case .array(let element, _) = value { #expect(element.description == field.types[1], "element type of \(key)") }
            #expect(matches(value, field.value), "value of \(key): \(value) vs \(field.value)")
        }
        #expect(file.tensorNames == expected.tensors.map(\.name))
        for t in expected.tensors {
            let info = try file.tensorInfo(t.name)
            #expect(info.type.description == t.type)
            #expect(info.dimensions == t.dims)
            #expect(info.shape == t.dims.reversed())
            #expect(info.offset == t.offset)
            #expect(info.byteCount == t.n_bytes)
            let data = try file.tensorData(t.name)
            if let hex = t.raw_hex { #expect(Array(data.bytes) == bytes(hex: hex), "raw bytes of \(t.name)") }
            if let bits = t.f32_bits {
                let values = try file.dequantize(t.name)
                #expect(values.map(\.bitPattern) == bits, "dequantized \(t.name) must equal gguf-py bit for bit")
            } else {
                #expect(throws: GGUFError.self) { try file.dequantize(t.name) }
            }
        }
    }

    @Test("version 2 header and general.alignment = 64 put the data section on a 64-byte boundary")
    func alignment64() throws {
        let file = try GGUFFile(contentsOf: Fixtures.gguf("aligned64_v2.gguf"))
        #expect(file.version == 2)
        #expect(file.alignment == 64)
        #expect(file.dataOffset % 64 == 0)
        #expect(try file.tensorInfo("b").offset % 64 == 0)
    }

    @Test("the in-memory reader gives the same result as the mapped one")
    func inMemoryEqualsMapped() throws {
        let url = Fixtures.gguf("all_types.gguf")
        let mapped = try GGUFFile(contentsOf: url)
        let copied = try GGUFFile(data: Data(contentsOf: url))
        #expect(mapped.metadata == copied.metadata)
        #expect(mapped.tensors == copied.tensors)
        #expect(copied.path == nil && mapped.path == url.path)
        for name in ["t.q4_1", "t.f16", "t.3d"] {
            #expect(try mapped.dequantize(name) == copied.dequantize(name))
        }
    }

    @Test("tensor views are zero-copy, keep the mapping alive, and expose raw F32/F16/BF16 bytes")
    func zeroCopyViews() throws {
        var file: GGUFFile? = try GGUFFile(contentsOf: Fixtures.gguf("all_types.gguf"))
        let view = try file!.tensorData("t.f16")
        let data = view.data
        let base = file!.storage.base!
        #expect(view.bytes.baseAddress == base + file!.dataOffset + view.info.offset)
        data.withUnsafeBytes { #expect($0.baseAddress == view.bytes.baseAddress) }
        let expected = try file!.dequantize("t.f16")
        file = nil  // the view and the Data still hold the storage
        let raw = try view.rawFloatBytes()
        let halves = (0 ..< view.info.elementCount).map {
            HalfFloat.float(fromBits: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))
        }
        #expect(halves == expected)
        #expect(data.count == 2 * view.info.elementCount)
        let q = try GGUFFile(contentsOf: Fixtures.gguf("all_types.gguf")).tensorData("t.q8_0")
        #expect(throws: GGUFError.self) { try q.rawFloatBytes() }
    }

    @Test("dequantize(into:) fills a caller's buffer and checks its size")
    func dequantizeIntoBuffer() throws {
        let file = try GGUFFile(contentsOf: Fixtures.gguf("all_types.gguf"))
        let view = try file.tensorData("t.q4_0")
        var buffer = [Float](repeating: .nan, count: view.info.elementCount)
        try buffer.withUnsafeMutableBufferPointer { try view.dequantize(into: $0) }
        #expect(buffer == (try file.dequantize("t.q4_0")))
        var short = [Float](repeating: 0, count: 3)
        #expect(throws: GGUFError.self) { try short.withUnsafeMutableBufferPointer { try view.dequantize(into: $0) } }
        #expect(throws: GGUFError(.tensorNotFound("nope"), file: file.path)) { try file.tensorInfo("nope") }
    }
}
