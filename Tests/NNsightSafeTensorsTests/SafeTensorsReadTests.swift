import Foundation
import Testing
@testable import NNsightSafeTensors

@Suite("reading files written by the safetensors library")
struct SafeTensorsReadTests {
    let expected: DTypesFixture
    let file: SafeTensorsFile

    init() throws {
        expected = try Fixtures.decode(DTypesFixture.self, "dtypes.json")
        file = try SafeTensorsFile(contentsOf: Fixtures.url("dtypes.safetensors"))
    }

    @Test("every dtype: name, dtype, shape, raw bytes and __metadata__")
    func everyDType() throws {
        #expect(file.metadata == expected.metadata)
        #expect(Set(file.tensorNames) == Set(expected.tensors.keys))
        #expect(file.dataOffset == 8 + expected.header_length)
        #expect(file.storage.count == expected.file_size)
        for (name, t) in expected.tensors {
            let tensor = try file.tensor(name)
            #expect(tensor.dtype.rawValue == t.dtype, "\(name)")
            #expect(tensor.shape == t.shape, "\(name)")
            #expect(tensor.elementCount == t.shape.reduce(1, *))
            #expect(Array(tensor.bytes) == bytes(hex: t.hex), "\(name) bytes")
        }
        #expect(Set(expected.tensors.values.map(\.dtype)).count == 16)
    }

    @Test("typed copies decode the values torch wrote")
    func typedValues() throws {
        func values(_ name: String) -> [DTypesFixture.Number] { expected.tensors[name]!.values! }
        func ints(_ name: String) -> [Int64] { values(name).map { if case .int(let v) = $0 { v } else { .max } } }
        func doubles(_ name: String) -> [Double] {
            values(name).map { switch $0 { case .double(let d): d; case .int(let i): Double(i); default: .nan } }
        }
        #expect(try file.tensor("bool").scalars(as: Bool.self) == values("bool").map { $0 == .bool(true) })
        #expect(try file.tensor("u8").scalars(as: UInt8.self).map(Int64.init) == ints("u8"))
        #expect(try file.tensor("i8").scalars(as: Int8.self).map(Int64.init) == ints("i8"))
        #expect(try file.tensor("i16").scalars(as: Int16.self).map(Int64.init) == ints("i16"))
        #expect(try file.tensor("u16").scalars(as: UInt16.self).map(Int64.init) == ints("u16"))
        #expect(try file.tensor("i32").scalars(as: Int32.self).map(Int64.init) == ints("i32"))
        #expect(try file.tensor("u32").scalars(as: UInt32.self).map(Int64.init) == ints("u32"))
        #expect(try file.tensor("i64").scalars(as: Int64.self) == ints("i64"))
        #expect(try file.tensor("u64").scalars(as: UInt64.self) == [0, 1, 1 << 63])
        #expect(try file.tensor("f32").scalars(as: Float.self).map(Double.init) == doubles("f32"))
        #expect(try file.tensor("f64").scalars(as: Double.self) == doubles("f64"))
        #expect(try file.tensor("scalar").scalars(as: Float.self) == [7.5])
        #expect(try file.tensor("empty").scalars(as: Float.self) == [])
        #expect(try file.tensor("f16").scalars(as: Float16.self).map(Double.init) == doubles("f16"))
        let bf16 = try file.tensor("bf16").scalars(as: UInt16.self, reinterpreting: true)
        #expect(bf16.map { Double(Float(bitPattern: UInt32($0) << 16)) } == doubles("bf16"))
    }

    @Test("asking for the wrong Swift type is an error")
    func dtypeMismatch() {
        #expect(throws: SafeTensorsError(.dtypeMismatch(tensor: "f32", dtype: "F32", requested: "Double"))) {
            try file.tensor("f32").scalars(as: Double.self)
        }
        #expect(throws: SafeTensorsError(.tensorNotFound("missing"), file: Fixtures.url("dtypes.safetensors").path)) {
            try file.tensor("missing")
        }
    }

    @Test("views point into the mapping, and outlive the file object")
    func zeroCopy() throws {
        var owner: SafeTensorsFile? = try SafeTensorsFile(contentsOf: Fixtures.url("dtypes.safetensors"))
        let view = try owner!.tensor("f32")
        let base = owner!.storage.base!
        #expect(view.bytes.baseAddress == base + owner!.dataOffset + view.info.dataOffsets.lowerBound)
        let data = view.data
        data.withUnsafeBytes { #expect($0.baseAddress == view.bytes.baseAddress) }
        let before = try view.scalars(as: Float.self)
        owner = nil
        #expect(try view.scalars(as: Float.self) == before)
        #expect(data.count == 60)
        #expect(try file.allTensors().count == expected.tensors.count)
    }

    @Test("in-memory bytes parse like the mapped file")
    func inMemory() throws {
        let copy = try SafeTensorsFile(data: Data(contentsOf: Fixtures.url("dtypes.safetensors")))
        #expect(copy.tensors == file.tensors)
        #expect(copy.path == nil)
        #expect(Array(try copy.tensor("bf16").bytes) == Array(try file.tensor("bf16").bytes))
    }
}

extension SafeTensor {
    /// Test helper: the raw elements of a 2-byte dtype as UInt16, whatever the dtype.
    func scalars(as: UInt16.Type, reinterpreting: Bool) throws -> [UInt16] {
        withUnsafeBytes { raw in (0 ..< elementCount).map { raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self) } }
    }
}
