import Crypto
import Foundation
import NNsightRemote

/// The API keys a server accepts, stored as SHA-256 hashes (never the keys themselves), each with
/// a name for the logs and its limits.
///
/// The file is JSON:
/// ```json
/// {"keys": [{"name": "alice", "sha256": "<64 hex digits>",
///            "limits": {"concurrentTraces": 2, "responseBytes": 16777216, "promptTokens": 4096, "newTokens": 256}}]}
/// ```
/// `printf %s "$KEY" | sha256sum` gives a key's hash; ``APIKeys/hash(_:)`` is the same.
public struct APIKeys: Sendable {
    public struct Entry: Codable, Sendable {
        public var name: String
        public var sha256: String
        public var limits: KeyLimits?

        public init(name: String, sha256: String, limits: KeyLimits? = nil) {
            self.name = name
            self.sha256 = sha256.lowercased()
            self.limits = limits
        }
    }

    struct File: Codable {
        var keys: [Entry]
    }

    public let entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries.map { Entry(name: $0.name, sha256: $0.sha256, limits: $0.limits) }
    }

    /// Reads a key file; a malformed one is an error naming the file.
    public init(contentsOf path: String) throws {
        do {
            let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            for entry in file.keys where entry.sha256.count != 64 || !entry.sha256.allSatisfy(\.isHexDigit) {
                throw RemoteError.protocolError(.server, "key \"\(entry.name)\" has no 64-digit SHA-256 hex hash")
            }
            self.init(entries: file.keys)
        } catch let error as RemoteError {
            throw error
        } catch {
            throw RemoteError.protocolError(.server, "the key file \(path) is not valid: \(error)")
        }
    }

    /// The lowercase hex SHA-256 of `key`.
    public static func hash(_ key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The entry of `key`, or nil for a wrong or missing key.
    public func entry(for key: String?) -> Entry? {
        guard let key else { return nil }
        let digest = APIKeys.hash(key)
        return entries.first { $0.sha256 == digest }
    }
}
