import Foundation
import Testing
@testable import NNsightGGUF

/// Little-endian GGUF bytes assembled by hand, for files gguf-py would refuse to write.
struct Builder {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); bytes += s.utf8 }

    /// Magic, version and the two counts.
    static func header(version: UInt32 = 3, tensors: UInt64, kvs: UInt64) -> Builder {
        var b = Builder()
        b.bytes += Array("GGUF".utf8)
        b.u32(version)
        b.u64(tensors)
        b.u64(kvs)
        return b
    }

    mutating func kvU32(_ key: String, _ v: UInt32) { string(key); u32(GGUFValueType.uint32.rawValue); u32(v) }

    mutating func tensor(_ name: String, dims: [UInt64], type: UInt32, offset: UInt64) {
        string(name)
        u32(UInt32(dims.count))
        for d in dims { u64(d) }
        u32(type)
        u64(offset)
    }

    /// Pads to `alignment` and appends `count` data bytes.
    mutating func data(_ count: Int, alignment: Int = 32) {
        while bytes.count % alignment != 0 { bytes.append(0) }
        bytes += [UInt8](repeating: 0x3C, count: count)
    }

    func parse() throws(GGUFError) -> GGUFFile { try GGUFFile(data: Data(bytes)) }
}

/// The reason a parse fails, or nil if it succeeds.
private func failure(_ b: Builder) -> GGUFError.Reason? {
    do {
        _ = try b.parse()
        return nil
    } catch {
        #expect(error.file == nil)
        #expect(!error.description.isEmpty)
        return error.reason
    }
}

@Suite("malformed GGUF files give typed errors")
struct GGUFMalformedTests {
    @Test func headerErrors() {
        #expect(failure(Builder()) == .truncated(what: "magic", offset: 0, needed: 4, available: 0))
        var notGGUF = Builder.header(tensors: 0, kvs: 0)
        notGGUF.bytes[3] = UInt8(ascii: "G")
        #expect(failure(notGGUF) == .badMagic(found: 0x4755_4747))
        #expect(failure(.header(version: 1, tensors: 0, kvs: 0)) == .unsupportedVersion(1))
        #expect(failure(.header(version: 4, tensors: 0, kvs: 0)) == .unsupportedVersion(4))
        #expect(failure(.header(tensors: .max, kvs: 0)) == .absurdCount(what: "tensor", count: .max, offset: 8))
        #expect(failure(.header(tensors: 0, kvs: 1 << 40)) == .absurdCount(what: "metadata", count: 1 << 40, offset: 16))
        var cut = Builder.header(tensors: 0, kvs: 0)
        cut.bytes.removeLast(3)
        guard case .truncated(what: "metadata count", _, _, _) = failure(cut) else {
            Issue.record("expected truncation"); return
        }
        #expect(failure(.header(version: 2, tensors: 0, kvs: 0)) == nil)
    }

    @Test func metadataErrors() {
        var longKey = Builder.header(tensors: 0, kvs: 1)
        longKey.u64(1000)
        longKey.bytes += [UInt8](repeating: 0x61, count: 20)
        guard case .stringPastEnd(_, 24, 1000, _) = failure(longKey) else { Issue.record("expected stringPastEnd"); return }

        var longValue = Builder.header(tensors: 0, kvs: 1)
        longValue.string("k")
        longValue.u32(GGUFValueType.string.rawValue)
        longValue.u64(.max)
        guard case .stringPastEnd = failure(longValue) else { Issue.record("expected stringPastEnd"); return }

        var unknown = Builder.header(tensors: 0, kvs: 1)
        unknown.string("k")
        unknown.u32(13)
        unknown.u32(0)
        #expect(failure(unknown) == .unknownValueType(13, key: "k", offset: 33))

        var hugeArray = Builder.header(tensors: 0, kvs: 1)
        hugeArray.string("arr")
        hugeArray.u32(GGUFValueType.array.rawValue)
        hugeArray.u32(GGUFValueType.uint64.rawValue)
        hugeArray.u64(1 << 60)
        hugeArray.u64(7)
        guard case .absurdCount(what: "array 'arr' element", count: 1 << 60, _) = failure(hugeArray) else {
            Issue.record("expected absurdCount"); return
        }

        var unknownElement = Builder.header(tensors: 0, kvs: 1)
        unknownElement.string("arr")
        unknownElement.u32(GGUFValueType.array.rawValue)
        unknownElement.u32(99)
        unknownElement.u64(1)
        guard case .unknownValueType(99, "arr", _) = failure(unknownElement) else { Issue.record("expected unknown type"); return }

        var deep = Builder.header(tensors: 0, kvs: 1)
        deep.string("deep")
        deep.u32(GGUFValueType.array.rawValue)
        for _ in 0 ..< 20 { deep.u32(GGUFValueType.array.rawValue); deep.u64(1) }
        deep.u32(GGUFValueType.uint8.rawValue)
        deep.u64(1)
        deep.u8(0)
        guard case .nestingTooDeep(key: "deep", _) = failure(deep) else { Issue.record("expected nestingTooDeep"); return }

        var duplicate = Builder.header(tensors: 0, kvs: 2)
        duplicate.kvU32("k", 1)
        duplicate.kvU32("k", 2)
        #expect(failure(duplicate) == .duplicateKey("k"))

        for bad: UInt32 in [0, 3, 48] {
            var b = Builder.header(tensors: 0, kvs: 1)
            b.kvU32("general.alignment", bad)
            guard case .invalidAlignment = failure(b) else { Issue.record("alignment \(bad) accepted"); return }
        }
        var stringAlignment = Builder.header(tensors: 0, kvs: 1)
        stringAlignment.string("general.alignment")
        stringAlignment.u32(GGUFValueType.string.rawValue)
        stringAlignment.string("32")
        guard case .invalidAlignment = failure(stringAlignment) else { Issue.record("string alignment accepted"); return }
    }

    @Test func tensorTableErrors() {
        func oneTensor(dims: [UInt64], type: GGMLType = .f32, rawType: UInt32? = nil, offset: UInt64 = 0,
                       data: Int) -> Builder {
            var b = Builder.header(tensors: 1, kvs: 0)
            b.tensor("w", dims: dims, type: rawType ?? type.rawValue, offset: offset)
            b.data(data)
            return b
        }
        #expect(failure(oneTensor(dims: [4, 2], data: 32)) == nil)
        #expect(failure(oneTensor(dims: [4, 2], data: 31)) ==
            .tensorDataPastEnd(tensor: "w", offset: 0, byteCount: 32, dataSectionSize: 31))
        #expect(failure(oneTensor(dims: [4, 2], offset: 32, data: 40)) ==
            .tensorDataPastEnd(tensor: "w", offset: 32, byteCount: 32, dataSectionSize: 40))
        #expect(failure(oneTensor(dims: [4], offset: .max - 31, data: 16)) != nil)
        #expect(failure(oneTensor(dims: [4], offset: 4, data: 64)) == .misalignedTensor(tensor: "w", offset: 4, alignment: 32))
        #expect(failure(oneTensor(dims: [4], rawType: 4, data: 16)) == .unknownTensorType(4, tensor: "w"))
        #expect(failure(oneTensor(dims: [4], rawType: 1000, data: 16)) == .unknownTensorType(1000, tensor: "w"))
        guard case .absurdCount(what: "dimension (tensor 'w')", count: 5, _) = failure(oneTensor(dims: [1, 1, 1, 1, 1], data: 4)) else {
            Issue.record("five dimensions accepted"); return
        }
        guard case .invalidTensorShape(tensor: "w", _, _) = failure(oneTensor(dims: [33, 2], type: .q4_0, data: 64)) else {
            Issue.record("partial Q4_0 block accepted"); return
        }
        guard case .invalidTensorShape = failure(oneTensor(dims: [1 << 40, 1 << 40], data: 16)) else {
            Issue.record("overflowing shape accepted"); return
        }
        guard case .invalidTensorShape = failure(oneTensor(dims: [UInt64.max], type: .i8, data: 16)) else {
            Issue.record("negative int64 dimension accepted"); return
        }
        var twice = Builder.header(tensors: 2, kvs: 0)
        twice.tensor("w", dims: [4], type: 0, offset: 0)
        twice.tensor("w", dims: [4], type: 0, offset: 32)
        twice.data(64)
        #expect(failure(twice) == .duplicateTensor("w"))
    }

    @Test func fileErrorsNameThePath() {
        let missing = URL(fileURLWithPath: "/nonexistent/model.gguf")
        #expect(throws: GGUFError.self) { try GGUFFile(contentsOf: missing) }
        do {
            _ = try GGUFFile(contentsOf: Fixtures.gguf(""))  // a directory
            Issue.record("a directory parsed")
        } catch {
            #expect(error.file == Fixtures.gguf("").path)
            guard case .cannotOpen = error.reason else { Issue.record("unexpected \(error)"); return }
        }
        do {
            _ = try GGUFFile(contentsOf: Fixtures.gguf("all_types.json"))
            Issue.record("JSON parsed as GGUF")
        } catch {
            #expect(error.file?.hasSuffix("all_types.json") == true)
            #expect(error.description.contains("all_types.json"))
        }
    }

    @Test("every truncation of a real file before its last tensor's end is an error")
    func everyTruncationFails() throws {
        let original = try [UInt8](Data(contentsOf: Fixtures.gguf("all_types.gguf")))
        let file = try GGUFFile(data: Data(original))
        let end = file.tensors.map { file.dataOffset + $0.offset + $0.byteCount }.max()!
        for length in 0 ..< end {
            #expect(throws: GGUFError.self, "length \(length)") { try GGUFFile(data: Data(original[..<length])) }
        }
        #expect(try GGUFFile(data: Data(original[..<end])).tensors.count == file.tensors.count)
    }

    @Test("random corruption never crashes: each mutated file parses or throws GGUFError")
    func randomCorruption() throws {
        let original = try [UInt8](Data(contentsOf: Fixtures.gguf("all_types.gguf")))
        let headerEnd = try GGUFFile(data: Data(original)).dataOffset
        var rng = SplitMix64(seed: 0x6767_7566)
        let interesting: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF]
        var parsed = 0, failed = 0
        for _ in 0 ..< 3000 {
            var bytes = original
            for _ in 0 ..< Int.random(in: 1 ... 6, using: &rng) {
                let i = Int.random(in: 0 ..< (Bool.random(using: &rng) ? headerEnd : bytes.count), using: &rng)
                bytes[i] = Bool.random(using: &rng) ? interesting.randomElement(using: &rng)! : UInt8.random(in: 0 ... 255, using: &rng)
            }
            if Int.random(in: 0 ..< 8, using: &rng) == 0 { bytes.removeLast(Int.random(in: 0 ..< bytes.count, using: &rng)) }
            do {
                let file = try GGUFFile(data: Data(bytes))
                parsed += 1
                for info in file.tensors where info.type.isDequantizable {
                    #expect(try file.dequantize(info.name).count == info.elementCount)
                }
                _ = try? GGUFLlamaHyperparameters(file.metadata)
                _ = try? GGUFTokenizerMetadata(file.metadata)
            } catch {
                failed += 1
            }
        }
        #expect(parsed > 0 && failed > 0, "parsed \(parsed), failed \(failed)")
    }
}

/// A small deterministic generator, so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
