import Foundation
import NNsightTorch

/// Bounds past every released model's, so that a mistyped or hostile `config.json` is refused
/// before anything is built (a GPT-2 config with `"n_layer": 1000000000` would otherwise allocate
/// modules until the machine runs out of memory). The largest open models have about 10¹²
/// parameters, 128–160 layers, hidden sizes up to 2¹⁴–2¹⁵ and vocabularies up to about 2.6 × 10⁵.
public enum ConfigLimits {
    /// Parameters of the whole model.
    public static let maxParameters = 2e12
    /// Decoder layers.
    public static let maxLayers = 4096
    /// Hidden size, head size times heads, MLP width.
    public static let maxWidth = 1 << 20
    /// Vocabulary entries.
    public static let maxVocabulary = 1 << 23
    /// Attention heads.
    public static let maxHeads = 4096
    /// Positions (the context window).
    public static let maxPositions = 1 << 26
}

/// The checks every family's `validate()` shares; each throws
/// ``ModelError/invalidConfig(field:reason:)`` naming the `config.json` field.
struct ConfigCheck {
    /// `value` is at least 1 and at most `limit`.
    static func size(_ value: Int, _ field: String, limit: Int) throws {
        guard value > 0 else { throw ModelError.invalidConfig(field: field, reason: "\(value) must be positive") }
        guard value <= limit else {
            throw ModelError.invalidConfig(field: field, reason: "\(value) exceeds \(limit), past any real model's")
        }
    }

    /// `value` divides into `parts` whole pieces.
    static func divisible(_ value: Int, _ field: String, by parts: Int, _ partsField: String, what: String) throws {
        guard parts > 0, value % parts == 0 else {
            throw ModelError.invalidConfig(
                field: field, reason: "\(value) is not divisible by \(partsField) \(parts) (\(what) would not be whole)")
        }
    }

    /// A positive, finite number.
    static func positive(_ value: Double, _ field: String) throws {
        guard value > 0, value.isFinite else { throw ModelError.invalidConfig(field: field, reason: "\(value) must be positive and finite") }
    }

    /// A probability.
    static func probability(_ value: Double, _ field: String) throws {
        guard value >= 0, value <= 1 else { throw ModelError.invalidConfig(field: field, reason: "\(value) must be in [0, 1]") }
    }

    /// A token id inside the vocabulary, when given.
    static func token(_ id: Int?, _ field: String, vocabulary: Int) throws {
        guard let id else { return }
        guard (0..<vocabulary).contains(id) else {
            throw ModelError.invalidConfig(field: field, reason: "\(id) is outside the vocabulary [0, \(vocabulary))")
        }
    }

    /// The parameter-count estimate is below ``ConfigLimits/maxParameters``. `parts` are the
    /// estimate's terms with the field that drives each; the error names the largest.
    static func parameterCount(_ parts: [(field: String, parameters: Double)]) throws {
        let total = parts.reduce(0) { $0 + $1.parameters }
        guard total <= ConfigLimits.maxParameters else {
            let field = parts.max { $0.parameters < $1.parameters }?.field ?? "(size)"
            throw ModelError.invalidConfig(
                field: field,
                reason: "the model would have about \(format(total)) parameters, past any real model's (limit \(format(ConfigLimits.maxParameters)))")
        }
    }

    static func format(_ count: Double) -> String { String(format: "%.3g", count) }
}

/// Refuses to build or load `parameters` parameters of `bytesPerParameter` bytes each where they
/// cannot fit in this machine's memory (nothing is allocated on the meta device, which passes).
func checkFitsInMemory(parameters: Double, bytesPerParameter: Int, device: Device, field: String) throws {
    guard device != .meta else { return }
    let needed = parameters * Double(bytesPerParameter)
    let available = Double(ProcessInfo.processInfo.physicalMemory)
    guard needed <= available else {
        throw ModelError.invalidConfig(
            field: field,
            reason: "about \(ConfigCheck.format(parameters)) parameters need \(ConfigCheck.format(needed / 1e9)) GB at \(bytesPerParameter) bytes each; this machine has \(ConfigCheck.format(available / 1e9)) GB")
    }
}
