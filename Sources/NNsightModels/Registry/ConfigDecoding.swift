import Foundation

extension KeyedDecodingContainer {
    /// The value of a `config.json` field that has no default: decoded when present, else
    /// ``ModelError/invalidConfig(field:reason:)`` naming the field ("required but missing"), as
    /// transformers fails on a config without its sizes. Every family's config decoder uses it:
    ///
    ///     vocabSize = try c.required(.vocabSize)
    func required<T: Decodable>(_ key: Key) throws -> T {
        guard let value = try decodeIfPresent(T.self, forKey: key) else {
            throw ModelError.invalidConfig(field: key.stringValue, reason: "required but missing")
        }
        return value
    }
}
