import Foundation
import Testing
@testable import NNsightSafeTensors

@Suite("writing safetensors and sharded checkpoints")
struct SafeTensorsWriteTests {
    @Test("rewriting every tensor reproduces the reference library's file byte for byte")
    func byteIdenticalRoundTrip() throws {
        let original = try SafeTensorsFile(contentsOf: Fixtures.url("dtypes.safetensors"))
        var writer = SafeTensorsWriter(metadata: original.metadata)
        for name in original.tensorNames.shuffled() { try writer.add(original.tensor(name)) }
        let written = writer.serialized()
        #expect(written == (try Data(contentsOf: Fixtures.url("dtypes.safetensors"))))

        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("out.safetensors")
        try writer.write(to: url)
        #expect(try Data(contentsOf: url) == written)
        let reread = try SafeTensorsFile(contentsOf: url)
        #expect(reread.tensors == original.tensors)
    }

    @Test("metadata and names needing JSON escapes survive a round trip")
    func escaping() throws {
        var writer = SafeTensorsWriter(metadata: ["quote\"key": "line\nbreak\\ \u{1}", "ünï": "ok"])
        let floats: [Float] = [1, -2, 3.5]
        try writer.add("we\"ird\tname", dtype: .float32, shape: [3], bytes: floats.withUnsafeBytes { Data($0) })
        let file = try SafeTensorsFile(data: writer.serialized())
        #expect(file.metadata == writer.metadata)
        #expect(try file.tensor("we\"ird\tname").scalars(as: Float.self) == floats)
        #expect(file.dataOffset % 8 == 0)
    }

    @Test("the writer rejects tensors whose bytes disagree with their shape")
    func writerValidation() throws {
        var writer = SafeTensorsWriter()
        #expect(throws: SafeTensorsError.self) { try writer.add("a", dtype: .float32, shape: [2], bytes: Data(count: 7)) }
        #expect(throws: SafeTensorsError.self) { try writer.add("a", dtype: .float32, shape: [-1], bytes: Data()) }
        #expect(throws: SafeTensorsError.self) { try writer.add("__metadata__", dtype: .uint8, shape: [1], bytes: Data(count: 1)) }
        #expect(throws: Never.self) { try writer.add("a", dtype: .uint8, shape: [1], bytes: Data(count: 1)) }
        #expect(throws: SafeTensorsError.self) { try writer.add("a", dtype: .uint8, shape: [1], bytes: Data(count: 1)) }
        let empty = SafeTensorsWriter()
        #expect(try SafeTensorsFile(data: empty.serialized()).tensors.isEmpty)
    }

    @Test("sharded checkpoint through model.safetensors.index.json")
    func sharded() throws {
        let expected = try Fixtures.decode(ShardedFixture.self, "sharded.json")
        let ckpt = try ShardedSafeTensors(directory: Fixtures.url("sharded"))
        #expect(ckpt.totalSize == expected.total_size)
        #expect(ckpt.tensorNames == expected.tensors.keys.sorted())
        #expect(ckpt.shards.count == 2)
        for (name, t) in expected.tensors {
            let tensor = try ckpt.tensor(name)
            #expect(ckpt.weightMap[name] == t.file)
            #expect(tensor.dtype.rawValue == t.dtype && tensor.shape == t.shape)
            #expect(Array(tensor.bytes) == bytes(hex: t.hex), "\(name)")
        }
        #expect(throws: SafeTensorsError(.tensorNotFound("nope"))) { try ckpt.tensor("nope") }
    }

    @Test("a directory with only model.safetensors opens as one shard")
    func singleFileDirectory() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: Fixtures.url("dtypes.safetensors"), to: dir.appendingPathComponent("model.safetensors"))
        let ckpt = try ShardedSafeTensors(directory: dir)
        #expect(ckpt.tensorNames.count == 18)
        #expect(try ckpt.tensor("i64").scalars(as: Int64.self).count == 4)
    }

    @Test("bad indexes: missing shard, tensor not in its shard, path escapes, bad JSON")
    func badIndexes() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"] {
            try FileManager.default.copyItem(at: Fixtures.url("sharded/\(name)"), to: dir.appendingPathComponent(name))
        }
        let index = dir.appendingPathComponent("model.safetensors.index.json")
        func attempt(_ json: String) -> SafeTensorsError? {
            try? Data(json.utf8).write(to: index)
            do { _ = try ShardedSafeTensors(indexAt: index); return nil } catch { return error }
        }
        #expect(attempt(#"{"weight_map": {"embed.weight": "model-00001-of-00002.safetensors"}}"#) == nil)
        guard case .cannotOpen = attempt(#"{"weight_map": {"x": "missing.safetensors"}}"#)?.reason else {
            Issue.record("missing shard accepted"); return
        }
        guard case .invalidIndex = attempt(#"{"weight_map": {"head.bias": "model-00001-of-00002.safetensors"}}"#)?.reason else {
            Issue.record("misplaced tensor accepted"); return
        }
        guard case .invalidIndex = attempt(#"{"weight_map": {"x": "../etc/passwd"}}"#)?.reason else {
            Issue.record("path escape accepted"); return
        }
        guard case .invalidIndex = attempt(#"{"weight_map": [1, 2]}"#)?.reason else {
            Issue.record("bad JSON accepted"); return
        }
    }
}
