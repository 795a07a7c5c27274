import Foundation
import NNsightGGUF
import NNsightTorch

/// Every model family the loader knows, one entry per `config.json` `model_type`.
///
/// To add a family, write its file (see ``ModelFamily``) and add one line to ``families``.
public enum ModelRegistry {
    /// The registered families. Extension point: one line per family.
    public static let families: [any ModelFamily.Type] = [
        GPT2Family.self,
        LlamaFamily.self,
        MistralFamily.self,
        Qwen2Family.self,
        GPTNeoXFamily.self,
        GemmaFamily.self,
        Gemma2Family.self,
        Qwen3Family.self,
        Olmo2Family.self,
        Phi3Family.self,
        MixtralFamily.self,
        Gemma3Family.self,
        Qwen3MoeFamily.self,
        GPTJFamily.self,
        OPTFamily.self,
    ]

    /// The `model_type` of every registered family, sorted.
    public static var supportedModelTypes: [String] { families.map { $0.modelType }.sorted() }

    /// Every GGUF `general.architecture` a registered family reads, sorted.
    public static var supportedGGUFArchitectures: [String] { families.flatMap { $0.ggufArchitectures }.sorted() }

    /// The family of `modelType`; throws ``ModelError/unsupportedArchitecture(_:supported:)``
    /// listing the supported ones.
    public static func family(modelType: String) throws -> any ModelFamily.Type {
        guard let family = families.first(where: { $0.modelType == modelType }) else {
            throw ModelError.unsupportedArchitecture(modelType, supported: supportedModelTypes)
        }
        return family
    }

    /// The family that reads GGUF files of `architecture` (`general.architecture`).
    public static func family(ggufArchitecture architecture: String) throws -> any ModelFamily.Type {
        guard let family = families.first(where: { $0.ggufArchitectures.contains(architecture) }) else {
            throw ModelError.unsupportedArchitecture("\(architecture) (GGUF)", supported: supportedGGUFArchitectures)
        }
        return family
    }
}

/// A decoded, validated configuration with the family it belongs to.
public struct ModelConfiguration: Sendable {
    /// The family (`ModelRegistry` entry).
    public let family: any ModelFamily.Type
    /// The family's configuration (its `Config` type).
    public let config: any ModelConfig

    /// Decodes a `config.json`: the family by `model_type` (or the first of `architectures`),
    /// then the family's configuration, validated before anything is built.
    public init(configData: Data) throws {
        struct Header: Decodable {
            let model_type: String?
            let architectures: [String]?
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: configData)
        } catch {
            throw ModelError.invalidConfig(field: "(file)", reason: "not valid JSON: \(error)")
        }
        let type = header.model_type ?? header.architectures?.first.map { $0.lowercased() } ?? "(none)"
        family = try ModelRegistry.family(modelType: type)
        do {
            config = try family.decodeErased(configData)
        } catch let error as DecodingError {
            throw ModelError.invalidConfig(field: describe(error), reason: "\(error)")
        }
    }

    /// The configuration of a GGUF file, by its `general.architecture`.
    public init(gguf file: GGUFFile) throws {
        let architecture: String
        do {
            architecture = try file.metadata.string("general.architecture")
        } catch {
            throw ModelError.malformedCheckpoint(file: file.path ?? "(GGUF)", reason: "\(error)")
        }
        family = try ModelRegistry.family(ggufArchitecture: architecture)
        config = try family.ggufConfigErased(file)
    }

    /// The `model_type`.
    public var modelType: String { family.modelType }

    /// Where this configuration's modules sit under the standard names (the family's preset,
    /// adjusted where the configuration changes the modules).
    public var standardNames: StandardNames { family.standardNamesErased(config) }

    /// Builds the architecture, in eval mode.
    public func makeModel(device: Device = .meta) throws -> any CausalLanguageModel {
        try family.makeModelErased(config, device: device)
    }
}

private func describe(_ error: DecodingError) -> String {
    switch error {
    case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
         .dataCorrupted(let context):
        return context.codingPath.map(\.stringValue).joined(separator: ".")
    @unknown default:
        return "(unknown)"
    }
}
