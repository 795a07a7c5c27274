import Foundation
import NNsightGGUF
import NNsightNN
import NNsightTokenizers
import NNsightTorch

/// A checkpoint on disk, opened but not loaded: a Hugging Face folder (`config.json`,
/// `*.safetensors` or a sharded `model.safetensors.index.json`, `tokenizer.json`) or a GGUF file
/// (or a folder holding exactly one `.gguf`).
///
/// Loading happens in two steps, so that a model can be built and inspected (on the meta device)
/// before its weights are read:
///
/// ```swift
/// let checkpoint = try Checkpoint(path: "models/gpt2")
/// let model = try checkpoint.makeModel()                       // meta tensors, no weights
/// try checkpoint.loadWeights(into: model, dtype: .bfloat16)    // same Module objects, real weights
/// ```
///
/// Python: `AutoConfig.from_pretrained` + `AutoModelForCausalLM.from_config` on the meta device,
/// then `load_state_dict(assign=True)`.
public final class Checkpoint {
    /// Where the weights live.
    public enum Format: Equatable, Sendable {
        /// A Hugging Face folder.
        case safeTensors(folder: URL)
        /// A llama.cpp GGUF file.
        case gguf(file: URL)
    }

    /// The path as given.
    public let path: String
    public let format: Format
    /// The `model_type` of the registry entry that reads it (`gpt2`, `llama`, `mistral`, `qwen2`),
    /// from `config.json` or the GGUF's `general.architecture`.
    public var architecture: String { configuration.modelType }
    /// Tokens that end generation (`eos_token_id`, or the GGUF vocabulary's end-of-sequence token).
    public var eosTokenIds: [Int] { configuration.config.eosTokenIds }
    /// The validated configuration and its registry family.
    public let configuration: ModelConfiguration
    /// The open GGUF file (memory-mapped), for GGUF checkpoints.
    private let ggufFile: GGUFFile?

    /// Opens the checkpoint at `path` and reads its configuration (not its weights).
    public init(path: String) throws {
        try Torch.checkRuntime()
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelError.missingFile(path)
        }
        let url = URL(fileURLWithPath: path)
        var ggufURL: URL?
        if !isDirectory.boolValue {
            guard path.hasSuffix(".gguf") else {
                throw ModelError.invalidInput("\(path) is neither a checkpoint folder nor a .gguf file")
            }
            ggufURL = url
        } else if !FileManager.default.fileExists(atPath: url.appendingPathComponent("config.json").path) {
            let ggufs = (try? FileManager.default.contentsOfDirectory(atPath: path))?.filter { $0.hasSuffix(".gguf") } ?? []
            guard ggufs.count == 1 else { throw ModelError.missingFile(url.appendingPathComponent("config.json").path) }
            ggufURL = url.appendingPathComponent(ggufs[0])
        }
        if let ggufURL {
            let file = try GGUFFile(contentsOf: ggufURL)
            configuration = try ModelConfiguration(gguf: file)
            format = .gguf(file: ggufURL)
            ggufFile = file
        } else {
            let configData = try Data(contentsOf: url.appendingPathComponent("config.json"))
            configuration = try ModelConfiguration(configData: configData)
            format = .safeTensors(folder: url)
            ggufFile = nil
        }
        // nnterp's load-time check, on the meta device: shapes only, nothing computed.
        try standardNames.verify(configuration.makeModel(device: .meta))
    }

    /// Where this family's modules sit under the standard names; pass `standardNames.rename`
    /// as the engine's `rename:` so that `layers`, `self_attn`, `mlp`, `ln_final`, `lm_head` and
    /// `embed_tokens` work on every family.
    public var standardNames: StandardNames { configuration.standardNames }

    /// The family's tokenizer defaults.
    public var tokenizerDefaults: TokenizerDefaults { configuration.family.tokenizerDefaults }

    /// The token that fills padded positions: the tokenizer's (if given), else the config's
    /// `pad_token_id`, else the family's default (the first end-of-sequence token, or 0).
    public func padTokenId(tokenizer: Tokenizer?) -> Int {
        if let id = tokenizer?.padding?.padId { return id }
        if let id = configuration.config.padTokenId { return id }
        switch tokenizerDefaults.padToken {
        case .endOfSequence: return eosTokenIds.first ?? 0
        case .id(let id): return id
        }
    }

    /// Builds the architecture without reading weights, in eval mode. On the meta device (the
    /// default) parameters are shapes only, until ``loadWeights(into:dtype:device:)`` fills them.
    public func makeModel(device: Device = .meta) throws -> any CausalLanguageModel {
        try configuration.makeModel(device: device)
    }

    /// Replaces every parameter of `model` (made by ``makeModel(device:)``) with the checkpoint's
    /// weights in `dtype` (floating-point tensors only), on `device`. The `Module` objects stay the
    /// same. On the CPU, safetensors weights already in `dtype` view the memory-mapped file (no
    /// copy) and others are converted one tensor at a time; linear weights are then held packed
    /// (`packLinearWeights()`, a CPU-only layout). Every copy (converted, packed, stacked, or
    /// dequantized from a GGUF) gives the file pages it read back at once, and a tied head's
    /// embedding is held once, transposed (a GGUF dequantizes it straight into that layout): the
    /// load's peak memory is about the weights. On another device each tensor is read (viewed or
    /// converted on the host) and moved to the device before the next, so the host never holds a
    /// second full copy of the weights; parameters the model recomputes (rotary tables) are moved
    /// too. Python: `from_pretrained(path, torch_dtype=dtype, device_map=device)`.
    ///
    /// Throws ``ModelError/missingFile(_:)`` when the weights file is absent,
    /// `ModuleError.stateDictMismatch` naming every missing, unexpected or misshapen tensor (the
    /// model is then unchanged), and `TorchError` with libtorch's message when `device` does not
    /// exist in this build (`.cuda(0)` without CUDA) before anything is read.
    public func loadWeights(into model: any CausalLanguageModel, dtype: DType = .float32, device: Device = .cpu) throws {
        try Self.checkAvailable(device)
        if device == .cpu {
            try checkFitsInMemory(parameters: configuration.config.parameterCountEstimate,
                                  bytesPerParameter: dtype.byteCount, device: .cpu, field: configuration.config.sizeField)
        }
        let pages = try loadState(into: model, dtype: dtype, device: device)
        // Buffers the checkpoint does not hold (rotary frequencies) follow the weights.
        for (_, buffer) in model.namedBuffers() where buffer.value.device != device {
            buffer.value = try buffer.value.to(device: device)
        }
        // After the state dict is gone, so that each plain weight is freed as it is packed, and
        // the mapped pages it was read from given back: a load holds each weight once (a tied
        // head too: its weight stays plain, in the layout its one-row products read).
        if device == .cpu { try model.packLinearWeights(packingShared: false, replaced: { pages?.release($0) }) }
    }

    /// Reads the weights into `model`; the state dict is gone when this returns. Returns the
    /// mapped pages of a safetensors checkpoint, for the copies the load makes next.
    private func loadState(into model: any CausalLanguageModel, dtype: DType, device: Device) throws -> MappedPages? {
        if case .safeTensors(let folder) = format, device == .cpu {
            let (weights, pages) = try readSafeTensors(folder: folder, dtype: dtype)
            try model.load(stateDict: modelWeights(weights, configuration: configuration, pages: pages))
            return pages
        }
        // A tied head's embedding is dequantized straight into the transposed layout the CPU holds it in.
        let transposed = device == .cpu ? model.sharedLinearWeightNames() : []
        try model.load(stateDict: readWeights(for: model, dtype: dtype, transposedLayout: transposed) { _ in device })
        return nil
    }

    /// Loads the weights split over several devices by `deviceMap` (``DeviceMap/auto(for:names:dtype:budgets:)``):
    /// each tensor is read and moved straight to its part's device before the next, then every
    /// part is placed (``DeviceMap/apply(to:)``) so that activations follow it across the
    /// boundaries. No oneDNN packing (a CPU-only layout, and a map's parts may be anywhere).
    /// Python: `from_pretrained(path, device_map=device_map, torch_dtype=dtype)`.
    public func loadWeights(into model: any CausalLanguageModel, dtype: DType = .float32, deviceMap: DeviceMap) throws {
        for device in deviceMap.devices { try Self.checkAvailable(device) }
        try deviceMap.check(against: model)
        let first = deviceMap.devices.first ?? .cpu
        try model.load(stateDict: readWeights(for: model, dtype: dtype) { deviceMap.device(of: $0) ?? first })
        try deviceMap.apply(to: model)
    }

    /// Throws a `TorchError` naming `device`, with libtorch's own message, when `device` cannot
    /// hold a tensor in this build (a CUDA device without CUDA, an MPS device off macOS), found by
    /// creating one empty tensor there.
    public static func checkAvailable(_ device: Device) throws {
        guard device != .cpu, device != .meta else { return }
        do {
            _ = try Tensor.empty([0], device: device)
        } catch {
            throw TorchError(error.kind, "device \(device) is not available: \(error.message)")
        }
    }

    /// The checkpoint's tensors in `dtype`, each on `device(modelKey)`, by the names of `model`'s
    /// state dict; GGUF matrices named in `transposedLayout` in the transposed layout.
    private func readWeights(for model: any CausalLanguageModel, dtype: DType, transposedLayout: Set<String> = [],
                             device: (String) -> Device) throws -> [String: Tensor] {
        switch format {
        case .safeTensors(let folder):
            let family = configuration.family, config = configuration.config
            let placement: (String) -> Device = { key in
                device((try? family.modelKeyErased(forCheckpointKey: key, config: config)).flatMap { $0 } ?? key)
            }
            let (weights, pages) = try readSafeTensors(folder: folder, dtype: dtype, device: placement)
            return try modelWeights(weights, configuration: configuration, pages: pages)
        case .gguf(let file):
            guard let ggufFile else { throw ModelError.missingFile(file.path) }
            return try configuration.family.ggufWeights(ggufFile, config: configuration.config, dtype: dtype, device: device,
                                                        transposedLayout: transposedLayout)
        }
    }

    /// The checkpoint's tokenizer: `tokenizer.json` of a folder (nil if it has none), or the GGUF
    /// vocabulary; with the chat template of `tokenizer_config.json` or `tokenizer.chat_template`.
    public func tokenizer() throws -> Tokenizer? {
        switch format {
        case .safeTensors(let folder):
            let url = folder.appendingPathComponent("tokenizer.json")
            return FileManager.default.fileExists(atPath: url.path) ? try Tokenizer(folder: folder) : nil
        case .gguf:
            guard let ggufFile else { return nil }
            return try ggufTokenizer(ggufFile)
        }
    }
}

/// Loads a checkpoint: a Hugging Face folder (`config.json`, `*.safetensors` or a sharded
/// `model.safetensors.index.json`, `tokenizer.json`) or a GGUF file (or a folder holding one).
/// The architecture comes from `config.json`'s `model_type` (or the GGUF's
/// `general.architecture`). Python: `AutoModelForCausalLM.from_pretrained(path)`.
///
/// Weights are viewed in place in the memory-mapped file where their dtype is kept (no second
/// copy); GGUF tensors are dequantized straight into their tensors. Compute runs in `dtype`.
public func load(path: String, dtype: DType = .float32) throws -> LoadedModel {
    let checkpoint = try Checkpoint(path: path)
    let model = try checkpoint.makeModel()
    try checkpoint.loadWeights(into: model, dtype: dtype)
    return LoadedModel(model: model, tokenizer: try checkpoint.tokenizer(), architecture: checkpoint.architecture,
                       eosTokenIds: checkpoint.eosTokenIds, path: path)
}

/// Builds an architecture on the meta device from a `config.json` (no weights): for inspecting
/// a model's structure and shapes before loading it. The config is validated first.
public func makeModel(configData: Data, device: Device = .meta) throws -> (model: any CausalLanguageModel, architecture: String, eosTokenIds: [Int]) {
    let configuration = try ModelConfiguration(configData: configData)
    return (try configuration.makeModel(device: device), configuration.modelType, configuration.config.eosTokenIds)
}
