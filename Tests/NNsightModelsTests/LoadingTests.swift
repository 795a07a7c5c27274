import Foundation
import NNsightNN
import NNsightSafeTensors
import Testing
import NNsightTorch
@testable import NNsightModels

/// `Checkpoint` (build on meta, then load) and the typed errors of malformed checkpoints.
@Suite struct LoadingTests {
    init() throws { try Torch.setNumThreads(1) }

    /// A scratch copy of a fixture folder, removed by `defer`.
    func scratchCopy(of name: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("models-tests-\(name)-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: Fixtures.root.appendingPathComponent(name), to: folder)
        return folder
    }

    /// Rewrites `config.json` of `folder` through `edit`.
    func editConfig(_ folder: URL, _ edit: (inout [String: Any]) -> Void) throws {
        let url = folder.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: url)
    }

    /// Rewrites `model.safetensors` of `folder`: `edit` may drop, add or replace tensors.
    func editWeights(_ folder: URL, _ edit: (inout [String: (dtype: SafeTensorsDType, shape: [Int], bytes: Data)]) -> Void) throws {
        let url = folder.appendingPathComponent("model.safetensors")
        let file = try SafeTensorsFile(contentsOf: url)
        var tensors = Dictionary(uniqueKeysWithValues: file.tensorNames.map { name in
            let tensor = try! file.tensor(name)
            return (name, (dtype: tensor.dtype, shape: tensor.shape, bytes: tensor.data))
        })
        edit(&tensors)
        var writer = SafeTensorsWriter()
        for (name, tensor) in tensors.sorted(by: { $0.key < $1.key }) {
            try writer.add(name, dtype: tensor.dtype, shape: tensor.shape, bytes: tensor.bytes)
        }
        try FileManager.default.removeItem(at: url)
        try writer.write(to: url)
    }

    @Test(arguments: Fixtures.tinyModels)
    func makeModelThenLoadWeightsKeepsModules(name: String) throws {
        let checkpoint = try Checkpoint(path: Fixtures.path(name))
        #expect(checkpoint.format == .safeTensors(folder: Fixtures.root.appendingPathComponent(name)))
        #expect(checkpoint.architecture == Fixtures.model(name).config["model_type"]?.string)
        #expect(checkpoint.eosTokenIds == [0])
        let model = try checkpoint.makeModel()
        #expect(!model.training)
        #expect(model.namedParameters().allSatisfy { $0.parameter.value.device == .meta })
        let modules = model.namedModules().map { ObjectIdentifier($0.module) }
        let parameters = model.namedParameters().map { ObjectIdentifier($0.parameter) }

        try checkpoint.loadWeights(into: model, dtype: .float32)
        #expect(model.namedModules().map { ObjectIdentifier($0.module) } == modules)
        #expect(model.namedParameters().map { ObjectIdentifier($0.parameter) } == parameters)
        #expect(model.namedParameters().allSatisfy { $0.parameter.value.device == .cpu })
        #expect(model.namedBuffers().allSatisfy { $0.buffer.value.device == .cpu })

        let single = Fixtures.model(name).single[0]
        let logits = try Torch.noGrad { try model(idsTensor([single.input_ids]), ForwardContext()) }
        #expect(try maxAbsDifference(logits.squeeze(dim: 0), single.logits.tensor()) <= 1e-4)
        let tokenizer = try #require(try checkpoint.tokenizer())
        #expect(tokenizer.encode(single.prompt).ids == single.input_ids)
    }

    @Test func reloadingReplacesValuesInPlace() throws {
        let checkpoint = try Checkpoint(path: Fixtures.path("tiny-gpt2"))
        let model = try checkpoint.makeModel()
        try checkpoint.loadWeights(into: model, dtype: .float32)
        let gpt2 = try #require(model as? GPT2LMHeadModel)
        let attention = gpt2.transformer.h[0].attn
        try checkpoint.loadWeights(into: model, dtype: .bfloat16)
        #expect(gpt2.transformer.h[0].attn === attention)
        #expect(attention.c_attn.weight.value.dtype == .bfloat16)
        #expect(gpt2.lm_head.weight.value.dtype == .bfloat16, "the tied head follows the embedding")
    }

    @Test func loadsFromAFolderHoldingOneGGUF() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("models-tests-gguf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createSymbolicLink(
            at: folder.appendingPathComponent("model.gguf"), withDestinationURL: URL(fileURLWithPath: Fixtures.smolLM2Path))
        let checkpoint = try Checkpoint(path: folder.path)
        #expect(checkpoint.format == .gguf(file: folder.appendingPathComponent("model.gguf")))
        #expect(checkpoint.architecture == "llama")
        #expect(checkpoint.eosTokenIds == [2])
        let model = try #require(try checkpoint.makeModel() as? LlamaForCausalLM)
        #expect(model.config.numHiddenLayers == 30)
        #expect(model.config.hiddenSize == 576)
        #expect(model.config.numKeyValueHeads == 3)
        #expect(model.config.tieWordEmbeddings)
        #expect(model.model.layers[0].self_attn.q_proj.weight.value.device == .meta)
    }

    // MARK: Errors

    @Test func missingCheckpointPath() throws {
        #expect(throws: ModelError.missingFile("/nonexistent/model")) { try Checkpoint(path: "/nonexistent/model") }
    }

    @Test func missingConfigField() throws {
        let folder = try scratchCopy(of: "tiny-llama")
        defer { try? FileManager.default.removeItem(at: folder) }
        try editConfig(folder) { $0["hidden_size"] = nil }
        #expect(throws: ModelError.invalidConfig(field: "hidden_size", reason: "required but missing")) {
            try NNsightModels.load(path: folder.path)
        }
    }

    @Test func mistypedConfigField() throws {
        let folder = try scratchCopy(of: "tiny-gpt2")
        defer { try? FileManager.default.removeItem(at: folder) }
        try editConfig(folder) { $0["n_layer"] = "two" }
        let error = try #require(throws: ModelError.self) { try Checkpoint(path: folder.path) }
        guard case .invalidConfig(let field, _) = error else { Issue.record("\(error)"); return }
        #expect(field == "n_layer")
    }

    @Test func unsupportedRopeType() throws {
        let folder = try scratchCopy(of: "tiny-llama3")
        defer { try? FileManager.default.removeItem(at: folder) }
        try editConfig(folder) { config in
            var scaling = config["rope_scaling"] as! [String: Any]
            scaling["rope_type"] = "yarn"
            config["rope_scaling"] = scaling
        }
        #expect(throws: ModelError.invalidConfig(field: "rope_scaling.rope_type", reason: "unsupported value \"yarn\"")) {
            try NNsightModels.load(path: folder.path)
        }
    }

    @Test func unsupportedModelType() throws {
        let folder = try scratchCopy(of: "tiny-llama")
        defer { try? FileManager.default.removeItem(at: folder) }
        try editConfig(folder) { $0["model_type"] = "mamba" }
        let error = try #require(throws: ModelError.self) { try Checkpoint(path: folder.path) }
        // A typed error listing the registered families.
        #expect(error == .unsupportedArchitecture("mamba", supported: ModelRegistry.supportedModelTypes))
        #expect(Set(ModelRegistry.supportedModelTypes).isSuperset(of: ["gpt2", "llama", "mistral", "qwen2"]))
        for type in ModelRegistry.supportedModelTypes { #expect("\(error)".contains(type)) }
    }

    @Test func invalidConfigJSON() throws {
        let folder = try scratchCopy(of: "tiny-llama")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("{ not json".utf8).write(to: folder.appendingPathComponent("config.json"))
        let error = try #require(throws: ModelError.self) { try Checkpoint(path: folder.path) }
        guard case .invalidConfig(let field, _) = error else { Issue.record("\(error)"); return }
        #expect(field == "(file)")
    }

    @Test func missingWeightFile() throws {
        let folder = try scratchCopy(of: "tiny-qwen2")
        defer { try? FileManager.default.removeItem(at: folder) }
        let weights = folder.appendingPathComponent("model.safetensors")
        try FileManager.default.removeItem(at: weights)
        let checkpoint = try Checkpoint(path: folder.path)
        let model = try checkpoint.makeModel()
        #expect(throws: ModelError.missingFile(weights.path)) { try checkpoint.loadWeights(into: model, dtype: .float32) }
        #expect(throws: ModelError.missingFile(weights.path)) { try NNsightModels.load(path: folder.path) }
    }

    @Test func missingTensor() throws {
        let folder = try scratchCopy(of: "tiny-llama")
        defer { try? FileManager.default.removeItem(at: folder) }
        try editWeights(folder) { $0["model.layers.1.mlp.up_proj.weight"] = nil }
        #expect(throws: ModuleError.stateDictMismatch(missing: ["model.layers.1.mlp.up_proj.weight"], unexpected: [], shapes: [])) {
            try NNsightModels.load(path: folder.path)
        }
    }

    @Test func unexpectedTensor() throws {
        let folder = try scratchCopy(of: "tiny-gpt2")
        defer { try? FileManager.default.removeItem(at: folder) }
        try editWeights(folder) { $0["transformer.h.9.mlp.c_fc.weight"] = (.float32, [2], Data(count: 8)) }
        #expect(throws: ModuleError.stateDictMismatch(missing: [], unexpected: ["transformer.h.9.mlp.c_fc.weight"], shapes: [])) {
            try NNsightModels.load(path: folder.path)
        }
    }

    @Test func misshapenTensor() throws {
        let folder = try scratchCopy(of: "tiny-qwen2")
        defer { try? FileManager.default.removeItem(at: folder) }
        try editWeights(folder) { $0["model.layers.0.self_attn.k_proj.bias"] = (.float32, [16], Data(count: 64)) }
        #expect(throws: ModuleError.stateDictMismatch(
            missing: [], unexpected: [], shapes: ["model.layers.0.self_attn.k_proj.bias: checkpoint has [16], model has [32]"])) {
            try NNsightModels.load(path: folder.path)
        }
        // The failed load left a model made by makeModel untouched (still on meta).
        let checkpoint = try Checkpoint(path: folder.path)
        let model = try checkpoint.makeModel()
        #expect(throws: ModuleError.self) { try checkpoint.loadWeights(into: model, dtype: .float32) }
        #expect(model.namedParameters().allSatisfy { $0.parameter.value.device == .meta })
    }

    @Test func notACheckpoint() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("models-tests-\(UUID().uuidString).bin")
        try Data("x".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(throws: ModelError.self) { try Checkpoint(path: file.path) }
    }
}
