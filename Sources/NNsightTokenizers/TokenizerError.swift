import Foundation

/// Why a tokenizer could not be built.
///
/// Loading never crashes on a bad file: every problem becomes one of these, naming the
/// component (`pre_tokenizer`, `model`, …) and, where it helps, the JSON path.
///
/// ```swift
/// do { _ = try Tokenizer(contentsOf: url) }
/// catch let error as TokenizerError { print(error) }  // unsupported pre_tokenizer type "UnicodeScripts"
/// ```
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be read.
    case unreadable(path: String, reason: String)
    /// The file is not valid JSON.
    case invalidJSON(reason: String)
    /// A component has a `type` this library does not implement.
    case unsupported(component: String, type: String)
    /// A field is missing, has the wrong type, or a value is inconsistent.
    case malformed(path: String, reason: String)
    /// A chat template was asked of a tokenizer that has none.
    case noChatTemplate

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "cannot read tokenizer file \(path): \(reason)"
        case let .invalidJSON(reason): "tokenizer file is not valid JSON: \(reason)"
        case let .unsupported(component, type): "unsupported \(component) type \"\(type)\""
        case let .malformed(path, reason): "malformed tokenizer at \(path): \(reason)"
        case .noChatTemplate: "this tokenizer has no chat template (no chat_template in tokenizer_config.json or tokenizer.chat_template in the GGUF)"
        }
    }
}
