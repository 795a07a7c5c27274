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

    /// A token-id field that `config.json` writes either as one id or as a list (`eos_token_id`:
    /// `2` or `[128001, 128009]`): the ids, none when the field is absent or null.
    func tokenIds(_ key: Key) throws -> [Int] {
        if let single = try? decodeIfPresent(Int.self, forKey: key) { return [single] }
        return try decodeIfPresent([Int].self, forKey: key) ?? []
    }
}
