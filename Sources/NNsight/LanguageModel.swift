import Foundation
import NNsightModels
import NNsightTemplates
import NNsightNN
import NNsightTokenizers
import NNsightTorch

/// A causal language model from a checkpoint (a Hugging Face folder or a GGUF file), with its
/// tokenizer, wrapped for tracing. Python: `nnsight.LanguageModel`.
///
/// Loading is lazy: the module tree is built on the meta device, so envoys can be walked and
/// printed at once; the first trace reads the weights (``dispatch()``), into the same modules.
///
/// ```swift
/// let model = try LanguageModel(path: ".models/SmolLM2-135M-Instruct.Q4_1.gguf")
/// let logits = try model.trace("The capital of France is") { m in try m.lm_head.output }
/// ```
public final class LanguageModel: EditableModel {
    public typealias Input = any PromptConvertible

    public let checkpoint: Checkpoint
    /// The network (parameters on the meta device until dispatched).
    public let network: any CausalLanguageModel
    public let tokenizer: Tokenizer
    public let envoys: EnvoyTree
    /// The dtype the weights are loaded in.
    public let dtype: DType
    /// Where the weights are loaded and where every input, mask, position, cache entry and
    /// sampled token is created. Values stay there until Swift reads them (`item`, `toArray`,
    /// printing copy to the host). Python: `model.device`.
    public let device: Device
    public let edits: Edits
    /// How the model is split over several devices (nil: all on ``device``).
    public let deviceMap: DeviceMap?
    /// Whether the weights are loaded, shared by every handle on this network.
    private let loaded: LoadState
    /// The aliases given at construction.
    private let rename: [String: String]
    /// True for the meta-device twin that `scan` runs: it never loads weights.
    private let isMetaTwin: Bool
    /// The meta-device twin of this network, built at the first `scan`.
    private lazy var metaTwin: Result<LanguageModel, any Error> = Result { try LanguageModel(metaTwinOf: self) }

    final class LoadState {
        var isDispatched = false
    }

    /// True once the weights are loaded. Python: `model.dispatched`.
    public var isDispatched: Bool { loaded.isDispatched }

    /// Opens `path`; `dispatch: true` loads the weights now instead of at the first trace.
    /// `device` is where the weights go (`.cuda(0)`; libtorch's error, naming the device, is thrown
    /// here when this build cannot reach it). `rename` adds envoy aliases
    /// (`["model.layers": "h"]`, `["self_attn": "attn"]`).
    /// Python: `LanguageModel(path, device_map="cuda:0", torch_dtype=torch.bfloat16)`.
    public convenience init(path: String, device: Device = .cpu, dtype: DType = .float32, rename: [String: String] = [:],
                            dispatch: Bool = false) throws {
        try self.init(path: path, device: device, deviceMap: nil, dtype: dtype, rename: rename, dispatch: dispatch)
    }

    /// Opens `path` split over several devices by `deviceMap` (plan one with
    /// ``DeviceMap/auto(for:names:dtype:budgets:)`` on ``network`` of a model opened without
    /// dispatching, or by hand): each block's weights on its device, activations moved at the
    /// boundaries, so every envoy sees its value on its own block's device. Inputs are made on
    /// the map's first device. Python: `LanguageModel(path, device_map=…)`.
    public convenience init(path: String, deviceMap: DeviceMap, dtype: DType = .float32, rename: [String: String] = [:],
                            dispatch: Bool = false) throws {
        try self.init(path: path, device: deviceMap.devices.first ?? .cpu, deviceMap: deviceMap, dtype: dtype,
                      rename: rename, dispatch: dispatch)
    }

    private init(path: String, device: Device, deviceMap: DeviceMap?, dtype: DType, rename: [String: String],
                 dispatch: Bool) throws {
        for device in deviceMap?.devices ?? [device] { try Checkpoint.checkAvailable(device) }
        self.device = device
        self.deviceMap = deviceMap
        checkpoint = try Checkpoint(path: path)
        guard let tokenizer = try checkpoint.tokenizer() else {
            throw NNsightError.invalidInput("\(path) has no tokenizer (tokenizer.json or a GGUF vocabulary)")
        }
        self.tokenizer = tokenizer
        self.dtype = dtype
        network = try checkpoint.makeModel(device: .meta)
        envoys = EnvoyTree(module: network, rename: rename)
        edits = Edits()
        loaded = LoadState()
        self.rename = rename
        isMetaTwin = false
        if dispatch { try self.dispatch() }
    }

    private init(sharing other: LanguageModel, edits: Edits) {
        checkpoint = other.checkpoint
        network = other.network
        tokenizer = other.tokenizer
        envoys = other.envoys
        dtype = other.dtype
        device = other.device
        deviceMap = other.deviceMap
        loaded = other.loaded
        rename = other.rename
        isMetaTwin = other.isMetaTwin
        self.edits = edits
    }

    /// A second network of the same architecture on the meta device, with the same aliases.
    private init(metaTwinOf other: LanguageModel) throws {
        checkpoint = other.checkpoint
        network = try other.checkpoint.makeModel(device: .meta)
        if other.dtype != .float32 { try network.to(other.dtype) }
        tokenizer = other.tokenizer
        envoys = EnvoyTree(module: network, rename: other.rename)
        dtype = other.dtype
        device = .meta
        deviceMap = nil
        loaded = LoadState()
        rename = other.rename
        isMetaTwin = true
        edits = Edits()
    }

    /// Runs `body` over `input` on the meta device: every value has its real shape and dtype but
    /// no data, nothing is computed and no weight is loaded; an intervention with a wrong shape or
    /// index fails with the same `TorchError` it would raise for real. The handle's edits apply.
    /// Python: `with model.scan(input):`.
    public func scan<T>(_ input: any PromptConvertible, _ body: (Envoy) throws -> T) throws -> T {
        try metaTwin.get().sharing(edits: edits).trace(input, body)
    }

    /// The meta-device twin that `scan` traces (a server scans a remote client's trace with it).
    package func scanningTwin() throws -> LanguageModel { try metaTwin.get() }

    public func sharing(edits: Edits) -> LanguageModel { LanguageModel(sharing: self, edits: edits) }

    /// Loads the weights into the module tree. Python: `model.dispatch()`.
    public func dispatch() throws {
        guard !loaded.isDispatched, !isMetaTwin else { return }
        if let deviceMap {
            try checkpoint.loadWeights(into: network, dtype: dtype, deviceMap: deviceMap)
        } else {
            try checkpoint.loadWeights(into: network, dtype: dtype, device: device)
        }
        loaded.isDispatched = true
    }

    /// The root envoy (`model`), for walking and printing the tree outside a trace.
    public var root: Envoy { envoys.root }

    /// The id used to pad shorter prompts (the tokenizer's end-of-sequence token when it has no
    /// padding token, as nnsight does).
    public var padTokenId: Int {
        tokenizer.padding?.padId ?? checkpoint.eosTokenIds.first ?? 0
    }

    /// Token rows of `input`, as the model would see them.
    public func tokenRows(_ input: any PromptConvertible) throws -> [[Int]] {
        let rows = try input.tokenRows(tokenizer)
        guard !rows.isEmpty, rows.allSatisfy({ !$0.isEmpty }) else {
            throw NNsightError.invalidInput("Input produced zero tokens after tokenization. Pass a non-empty prompt or non-empty token ids.")
        }
        return rows
    }

    /// Left-pads the rows of all invokes to one batch `[batch, longest]` with its attention mask.
    public func batch(_ inputs: [any PromptConvertible]) throws -> PreparedBatch {
        let (rows, ids, mask) = try encode(inputs)
        try dispatch()
        let network = self.network
        return PreparedBatch(rows: rows) { events in
            try events.deliver(result: try network(ids, ForwardContext(attentionMask: mask)))
        }
    }

    /// The rows of each input, and all their token rows left-padded into one batch.
    func encode(_ inputs: [any PromptConvertible]) throws -> (rows: [Range<Int>], ids: Tensor, mask: Tensor?) {
        var rows: [Range<Int>] = []
        var sequences: [[Int]] = []
        for input in inputs {
            let tokens = try tokenRows(input)
            rows.append(sequences.count..<(sequences.count + tokens.count))
            sequences += tokens
        }
        let (ids, mask) = try leftPadded(sequences)
        guard device != .cpu else { return (rows, ids, mask) }
        return (rows, try ids.to(device: device), try mask?.to(device: device))
    }

    /// `[batch, longest]` ids, left-padded, and the mask (nil when no row needs padding).
    func leftPadded(_ sequences: [[Int]]) throws -> (ids: Tensor, mask: Tensor?) {
        let length = sequences.map { $0.count }.max() ?? 0
        let pad = padTokenId
        let ids = sequences.flatMap { Array(repeating: pad, count: length - $0.count) + $0 }
        let idTensor = try Tensor(ids, shape: [sequences.count, length])
        guard sequences.contains(where: { $0.count != length }) else { return (idTensor, nil) }
        let mask = sequences.flatMap { Array(repeating: 0, count: length - $0.count) + Array(repeating: 1, count: $0.count) }
        return (idTensor, try Tensor(mask, shape: [sequences.count, length]))
    }
}

/// What a language model accepts as a prompt: a string, several strings, token ids, several
/// lists of ids, tokenized encodings, a tensor of ids (`[sequence]` or `[batch, sequence]`), or
/// chat messages (``Chat``, `[ChatMessage]`, several of them as a batch).
public protocol PromptConvertible {
    /// The token ids of each row.
    func tokenRows(_ tokenizer: Tokenizer) throws -> [[Int]]
}

extension String: PromptConvertible {
    public func tokenRows(_ tokenizer: Tokenizer) throws -> [[Int]] { [tokenizer.encode(self).ids] }
}

extension Array: PromptConvertible where Element: PromptConvertible {
    public func tokenRows(_ tokenizer: Tokenizer) throws -> [[Int]] {
        if let ids = self as? [Int] { return [ids] }
        if let messages = self as? [ChatMessage] { return try Chat(messages).tokenRows(tokenizer) }
        return try flatMap { try $0.tokenRows(tokenizer) }
    }
}

/// A tokenized prompt (`tokenizer.encode(...)`, or a padded batch from `encodeBatch`): its
/// real tokens (where the attention mask is 1); the batch is re-padded on the left.
extension Encoding: PromptConvertible {
    public func tokenRows(_ tokenizer: Tokenizer) throws -> [[Int]] {
        [zip(ids, attentionMask).filter { $0.1 != 0 }.map { $0.0 }]
    }
}

extension Int: PromptConvertible {
    public func tokenRows(_ tokenizer: Tokenizer) throws -> [[Int]] { [[self]] }
}

extension Tensor: PromptConvertible {
    public func tokenRows(_ tokenizer: Tokenizer) throws -> [[Int]] {
        switch rank {
        case 1: return [try toArray(Int.self)]
        case 2:
            let width = try size(1)
            let values = try toArray(Int.self)
            return stride(from: 0, to: values.count, by: Swift.max(width, 1)).map { Array(values[$0..<($0 + width)]) }
        default:
            throw NNsightError.invalidInput("token ids must be [sequence] or [batch, sequence], got shape \(shape)")
        }
    }
}
