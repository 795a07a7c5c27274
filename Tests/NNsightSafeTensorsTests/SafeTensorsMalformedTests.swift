import Foundation
import Testing
@testable import NNsightSafeTensors

/// The reason parsing `bytes` fails, or nil if it succeeds.
private func failure(_ bytes: Data) -> SafeTensorsError.Reason? {
    do {
        _ = try SafeTensorsFile(data: bytes)
        return nil
    } catch {
        #expect(error.file == nil)
        #expect(!error.description.isEmpty)
        return error.reason
    }
}

private let f32x2 = #""w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#

@Suite("malformed safetensors files give typed errors")
struct SafeTensorsMalformedTests {
    @Test func lengthPrefix() {
        #expect(failure(Data()) == .fileTooSmall(size: 0))
        #expect(failure(Data([1, 0, 0])) == .fileTooSmall(size: 3))
        #expect(failure(safetensorsBytes(header: "{}", data: [], declaredLength: 200_000_000)) ==
            .headerTooLarge(length: 200_000_000, limit: 100_000_000))
        #expect(failure(safetensorsBytes(header: "{}", data: [], declaredLength: .max)) ==
            .headerTooLarge(length: .max, limit: 100_000_000))
        #expect(failure(safetensorsBytes(header: "{}", data: [], declaredLength: 3)) == .headerPastEnd(length: 3, fileSize: 10))
        #expect(failure(safetensorsBytes(header: "{}", data: [])) == nil)
        #expect(failure(safetensorsBytes(header: "{\(f32x2)}", data: [UInt8](repeating: 0, count: 8))) == nil)
    }

    @Test func badJSON() {
        for header in ["", "{", "[1,2]", "nul", "{\"w\": 3}", "{\"w\":{\"dtype\":\"F32\"}}", "\u{FF}{}",
                       #"{"__metadata__":{"a":1}}"#, #"{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#,
                       #"{"w":{"dtype":"F32","shape":"2","data_offsets":[0,8]}}"#] {
            guard case .invalidHeader(let at, _) = failure(safetensorsBytes(header: header, data: [UInt8](repeating: 0, count: 8))) else {
                Issue.record("header \(header.debugDescription) accepted"); continue
            }
            #expect(at.hasPrefix("$"))
        }
        guard case .invalidHeader(at: "$.w", _) = failure(safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[2]}}"#, data: [])) else {
            Issue.record("missing data_offsets not located"); return
        }
        guard case .invalidHeader = failure(safetensorsBytes(
            header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}}"#, data: [UInt8](repeating: 0, count: 8))) else {
            Issue.record("three offsets accepted"); return
        }
    }

    @Test func badTensors() {
        let eight = [UInt8](repeating: 0, count: 8)
        #expect(failure(safetensorsBytes(header: #"{"w":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}"#, data: eight))
            == .unknownDType(tensor: "w", dtype: "F33"))
        #expect(failure(safetensorsBytes(header: #"{"w":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}}"#, data: [0]))
            == .unknownDType(tensor: "w", dtype: "F4"))
        #expect(failure(safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: eight))
            == .invalidShape(tensor: "w", shape: [-2], why: "negative dimension"))
        guard case .invalidShape = failure(safetensorsBytes(
            header: #"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#, data: eight)) else {
            Issue.record("overflowing shape accepted"); return
        }
        #expect(failure(safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: eight))
            == .sizeMismatch(tensor: "w", expectedBytes: 12, actualBytes: 8))
        #expect(failure(safetensorsBytes(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, data: eight))
            == .invalidOffsets(tensor: "w", begin: 8, end: 0, why: "begin must be >= 0 and <= end"))
        guard case .invalidOffsets(tensor: "w", begin: -8, _, _) = failure(safetensorsBytes(
            header: #"{"w":{"dtype":"F32","shape":[0],"data_offsets":[-8,-8]}}"#, data: [])) else {
            Issue.record("negative offset accepted"); return
        }
    }

    @Test("offsets must tile the data section: overlap, gap, short or long data")
    func tiling() {
        let a = #""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#
        let overlapping = #""b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}"#
        let gapped = #""b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}"#
        let good = #""b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}"#
        guard case .invalidOffsets(tensor: "b", begin: 4, end: 12, _) = failure(safetensorsBytes(
            header: "{\(a),\(overlapping)}", data: [UInt8](repeating: 0, count: 12))) else {
            Issue.record("overlap accepted"); return
        }
        guard case .invalidOffsets(tensor: "b", begin: 12, end: 16, _) = failure(safetensorsBytes(
            header: "{\(a),\(gapped)}", data: [UInt8](repeating: 0, count: 16))) else {
            Issue.record("gap accepted"); return
        }
        #expect(failure(safetensorsBytes(header: "{\(a),\(good)}", data: [UInt8](repeating: 0, count: 16))) == nil)
        #expect(failure(safetensorsBytes(header: "{\(a),\(good)}", data: [UInt8](repeating: 0, count: 15)))
            == .dataSizeMismatch(tensorBytes: 16, dataSectionBytes: 15))
        #expect(failure(safetensorsBytes(header: "{\(a),\(good)}", data: [UInt8](repeating: 0, count: 17)))
            == .dataSizeMismatch(tensorBytes: 16, dataSectionBytes: 17))
        let same = #""b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#
        guard case .invalidOffsets = failure(safetensorsBytes(header: "{\(a),\(same)}", data: [UInt8](repeating: 0, count: 8))) else {
            Issue.record("two tensors sharing bytes accepted"); return
        }
    }

    @Test("file errors carry the path")
    func fileErrors() {
        do {
            _ = try SafeTensorsFile(contentsOf: Fixtures.url("dtypes.json"))
            Issue.record("JSON parsed as safetensors")
        } catch {
            #expect(error.file == Fixtures.url("dtypes.json").path)
            #expect(error.description.contains("dtypes.json"))
        }
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(contentsOf: URL(fileURLWithPath: "/nonexistent.safetensors")) }
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(contentsOf: Fixtures.url("")) }
    }

    @Test("every truncation of a real file is an error")
    func everyTruncationFails() throws {
        let original = try Data(contentsOf: Fixtures.url("dtypes.safetensors"))
        for length in 0 ..< original.count {
            #expect(failure(original.prefix(length)) != nil, "length \(length)")
        }
        #expect(failure(original) == nil)
    }

    @Test("random corruption never crashes: each mutated file parses or throws SafeTensorsError")
    func randomCorruption() throws {
        let original = try [UInt8](Data(contentsOf: Fixtures.url("dtypes.safetensors")))
        let headerEnd = try SafeTensorsFile(data: Data(original)).dataOffset
        var rng = SplitMix64(seed: 0x5AFE)
        let interesting: [UInt8] = Array("{}[],:\"0123456789-. eE".utf8) + [0x00, 0xFF, 0x80]
        var parsed = 0, failed = 0
        for _ in 0 ..< 3000 {
            var bytes = original
            for _ in 0 ..< Int.random(in: 1 ... 4, using: &rng) {
                let i = Int.random(in: 0 ..< (Int.random(in: 0 ..< 10, using: &rng) < 9 ? headerEnd : bytes.count), using: &rng)
                bytes[i] = Bool.random(using: &rng) ? interesting.randomElement(using: &rng)! : UInt8.random(in: 0 ... 255, using: &rng)
            }
            if Int.random(in: 0 ..< 8, using: &rng) == 0 { bytes.removeLast(Int.random(in: 0 ..< bytes.count, using: &rng)) }
            if let file = try? SafeTensorsFile(data: Data(bytes)) {
                parsed += 1
                for name in file.tensorNames {
                    let t = try file.tensor(name)
                    #expect(t.bytes.count == t.elementCount * t.dtype.byteSize)
                    if t.dtype == .float32 { #expect(try t.scalars(as: Float.self).count == t.elementCount) }
                    if t.dtype == .bool { #expect(try t.scalars(as: Bool.self).count == t.elementCount) }
                }
            } else {
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
