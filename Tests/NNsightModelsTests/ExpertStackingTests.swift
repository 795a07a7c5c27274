import Foundation
import NNsightNN
import NNsightSafeTensors
import NNsightTorch
import Testing
@testable import NNsightModels

/// The hub's per-expert MoE weights stacked at load (`stackPerExpertWeights`, the code Mixtral and
/// Qwen3-MoE share): every slot of the stacked tensors holds that expert's weights from the file,
/// and each part is handed to `release` only after it has been copied.
@Suite struct ExpertStackingTests {
    init() throws { try Torch.setNumThreads(1) }

    /// The float32 tensor `name` of `file`, read from its bytes (not through the loader).
    func fileTensor(_ file: SafeTensorsFile, _ name: String) throws -> Tensor {
        let stored = try file.tensor(name)
        #expect(stored.dtype.rawValue == "F32")
        let data = stored.data
        let values = data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
            }
        }
        return try Tensor(values, shape: stored.shape)
    }

    /// Each loaded layer's `experts.gate_up_proj[e]` is expert e's gate rows then its up rows, and
    /// `experts.down_proj[e]` its down weight, exactly as the safetensors file holds them.
    @Test(arguments: [("tiny-mixtral", "block_sparse_moe", ("w1", "w3", "w2")),
                      ("tiny-qwen3-moe", "mlp", ("gate_proj", "up_proj", "down_proj"))])
    func stackedExpertsEqualTheFilesPerExpertWeights(name: String, block: String, parts: (String, String, String)) throws {
        let model = try NNsightModels.load(path: Fixtures.path(name)).model
        let file = try SafeTensorsFile(contentsOf: Fixtures.root.appendingPathComponent(name).appendingPathComponent("model.safetensors"))
        let parameters = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.parameter) })
        let stackedLayers = parameters.keys.filter { $0.hasSuffix(".experts.gate_up_proj") }.sorted()
        #expect(!stackedLayers.isEmpty)
        for key in stackedLayers {
            let prefix = String(key.dropLast(".experts.gate_up_proj".count))   // model.layers.<i>.mlp
            let filePrefix = prefix.dropLast("mlp".count) + block + ".experts"
            let gateUp = try #require(parameters[key]).value
            let down = try #require(parameters[prefix + ".experts.down_proj"]).value
            #expect(gateUp.shape[0] == down.shape[0])
            for expert in 0..<gateUp.shape[0] {
                let gate = try fileTensor(file, "\(filePrefix).\(expert).\(parts.0).weight")
                let up = try fileTensor(file, "\(filePrefix).\(expert).\(parts.1).weight")
                let downWeight = try fileTensor(file, "\(filePrefix).\(expert).\(parts.2).weight")
                #expect(try gateUp.select(dim: 0, index: expert).equal(Tensor.cat([gate, up], dim: 0)), "\(key)[\(expert)]")
                #expect(try down.select(dim: 0, index: expert).equal(downWeight), "\(prefix).experts.down_proj[\(expert)]")
            }
        }
    }

    /// Every part is released once, expert by expert (gate, up, down of expert 0, then expert 1,
    /// …), and only after its copy: parts overwritten inside `release` leave the stacked values
    /// intact. Tensors that are not per-expert weights pass through untouched and unreleased.
    @Test func releasesEachPartAfterItsCopyExpertByExpert() throws {
        let experts = 3, hidden = 4, inner = 5
        var weights: [String: Tensor] = ["model.layers.2.mlp.gate.weight": try Tensor.randn([experts, hidden])]
        var originals: [String: Tensor] = [:]
        for expert in 0..<experts {
            for (part, shape) in [("gate_proj", [inner, hidden]), ("up_proj", [inner, hidden]), ("down_proj", [hidden, inner])] {
                let key = "model.layers.2.mlp.experts.\(expert).\(part).weight"
                weights[key] = try Tensor.randn(shape)
                originals[key] = try weights[key]!.clone()
            }
        }
        let names = Dictionary(uniqueKeysWithValues: weights.map { (ObjectIdentifier($0.value), $0.key) })
        var released: [String] = []
        let stacked = try stackPerExpertWeights(weights, experts: experts, names: ("gate_proj", "up_proj", "down_proj")) { part in
            released.append(names[ObjectIdentifier(part)] ?? "?")
            _ = try? part.fill_(Float.nan)
        }
        #expect(released == (0..<experts).flatMap { e in
            ["gate_proj", "up_proj", "down_proj"].map { "model.layers.2.mlp.experts.\(e).\($0).weight" }
        })
        #expect(Set(stacked.keys) == ["model.layers.2.mlp.gate.weight", "model.layers.2.mlp.experts.gate_up_proj",
                                     "model.layers.2.mlp.experts.down_proj"])
        let gateUp = try #require(stacked["model.layers.2.mlp.experts.gate_up_proj"])
        let down = try #require(stacked["model.layers.2.mlp.experts.down_proj"])
        #expect(gateUp.shape == [experts, 2 * inner, hidden] && down.shape == [experts, hidden, inner])
        for expert in 0..<experts {
            let key = { (part: String) in "model.layers.2.mlp.experts.\(expert).\(part).weight" }
            #expect(try gateUp.select(dim: 0, index: expert)
                .equal(Tensor.cat([originals[key("gate_proj")]!, originals[key("up_proj")]!], dim: 0)))
            #expect(try down.select(dim: 0, index: expert).equal(originals[key("down_proj")]!))
        }
    }

    /// An expert whose weight has another shape than expert 0's (here one row, which a slot copy
    /// would broadcast silently) is a malformed checkpoint naming that tensor.
    @Test func anExpertOfAnotherShapeIsNamed() throws {
        var weights: [String: Tensor] = [:]
        for expert in 0..<2 {
            weights["layers.0.experts.\(expert).w1.weight"] = try Tensor.randn([6, 4])
            weights["layers.0.experts.\(expert).w3.weight"] = try Tensor.randn([6, 4])
            weights["layers.0.experts.\(expert).w2.weight"] = try Tensor.randn([4, 6])
        }
        weights["layers.0.experts.1.w3.weight"] = try Tensor.randn([1, 4])
        #expect(throws: ModelError.malformedCheckpoint(
            file: "layers.0.experts.1.w3.weight", reason: "shape [1, 4] torch.float32 where expert 0's is [6, 4] torch.float32 (a matrix)")) {
            try stackPerExpertWeights(weights, experts: 2, names: ("w1", "w3", "w2"))
        }
    }
}
