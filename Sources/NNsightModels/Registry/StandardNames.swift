import NNsightNN
import NNsightTorch

/// Where a family's modules sit under the names every family answers to (nnterp's standard
/// names): `layers`, and in each layer `self_attn` and `mlp`; `ln_final`, `lm_head`,
/// `embed_tokens`. With ``rename`` passed to the engine (`LanguageModel(path:rename:)`), one
/// script runs unchanged on every family while the original paths keep working.
///
/// Python (nnterp): `StandardizedTransformer(model)`; `model.layers[3].self_attn.output`.
public struct StandardNames: Sendable, Equatable {
    /// The path of the decoder layers' list (`transformer.h`, `model.layers`).
    public var layers: String
    /// The attention module's name inside a layer (`attn`, `self_attn`).
    public var selfAttention: String
    /// The MLP's name inside a layer (`mlp`).
    public var mlp: String
    /// The path of the final norm (`transformer.ln_f`, `model.norm`).
    public var finalNorm: String
    /// The path of the vocabulary projection (`lm_head`).
    public var lmHead: String
    /// The path of the token embedding (`transformer.wte`, `model.embed_tokens`).
    public var embedTokens: String

    public init(layers: String, selfAttention: String, mlp: String, finalNorm: String, lmHead: String = "lm_head",
                embedTokens: String) {
        self.layers = layers
        self.selfAttention = selfAttention
        self.mlp = mlp
        self.finalNorm = finalNorm
        self.lmHead = lmHead
        self.embedTokens = embedTokens
    }

    /// The aliases for the engine's `rename:` (real path or name → standard name): dotted paths
    /// are mounted on the root, single names apply inside every layer. Names already standard
    /// are left out.
    public var rename: [String: String] {
        var aliases: [String: String] = [:]
        for (real, standard) in [(layers, "layers"), (finalNorm, "ln_final"), (lmHead, "lm_head"),
                                 (embedTokens, "embed_tokens"), (selfAttention, "self_attn"), (mlp, "mlp")]
        where real != standard {
            aliases[real] = standard
        }
        return aliases
    }

    /// The checks nnterp runs when it loads a model: one forward pass of `[2, 3]` token ids on
    /// `model` (build it on the meta device: shapes only, nothing computed) in which every
    /// layer, its attention and its MLP return `[batch, sequence, hidden]`, and `lm_head`
    /// returns `[batch, sequence, vocabulary]`. Throws ``ModelError/standardNameCheck(module:reason:)``
    /// naming the first module that fails.
    public func verify(_ model: any CausalLanguageModel) throws {
        let batch = 2, sequence = 3
        func module(_ path: String) throws -> Module {
            guard let found = model.module(at: path) else {
                throw ModelError.standardNameCheck(module: path, reason: "no module at this path")
            }
            return found
        }
        let layerList = try module(layers)
        let layerModules = layerList.namedChildren
        guard !layerModules.isEmpty else { throw ModelError.standardNameCheck(module: layers, reason: "holds no layers") }
        var checked: [(path: String, module: Module, lastDimension: Int?)] = []
        let embedding = try module(embedTokens)
        checked.append((embedTokens, embedding, nil))
        for (index, layer) in layerModules {
            let path = "\(layers).\(index)"
            checked.append((path, layer, nil))
            checked.append(("\(path).\(selfAttention)", try module("\(path).\(selfAttention)"), nil))
            checked.append(("\(path).\(mlp)", try module("\(path).\(mlp)"), nil))
        }
        // ln_final feeds lm_head: its width is lm_head's input (the hidden size, or OPT-350m's
        // narrower `project_out`).
        let head = try module(lmHead)
        checked.append((finalNorm, try module(finalNorm), (head as? Linear)?.inFeatures))
        checked.append((lmHead, head, model.vocabularySize))

        var shapes: [ObjectIdentifier: [Int]] = [:]
        let handles = checked.map { entry in
            entry.module.registerForwardHook { module, _, output in
                shapes[ObjectIdentifier(module)] = output.shape
                return nil
            }
        }
        defer { handles.forEach { $0.remove() } }
        let ids = try Tensor.zeros([batch, sequence], dtype: .int64, device: model.parameters.first?.device ?? .cpu)
        _ = try Torch.noGrad { try model(ids, ForwardContext()) }

        guard let hidden = shapes[ObjectIdentifier(embedding)]?.last else {
            throw ModelError.standardNameCheck(module: embedTokens, reason: "was not called by the forward pass")
        }
        for entry in checked {
            guard let shape = shapes[ObjectIdentifier(entry.module)] else {
                throw ModelError.standardNameCheck(module: entry.path, reason: "was not called by the forward pass")
            }
            let expected = [batch, sequence, entry.lastDimension ?? hidden]
            guard shape == expected else {
                throw ModelError.standardNameCheck(
                    module: entry.path, reason: "output shape \(shape), expected \(expected) ([batch, sequence, \(entry.path == lmHead ? "vocabulary" : entry.path == finalNorm ? "lm_head's input" : "hidden")])")
            }
        }
    }
}
