import Foundation
import NNsightTorch

/// Goldens of scripts/fixtures/gen_source.py: transformers' eager attention probabilities and
/// Python nnsight 0.8.1's `.source` scenarios.
enum SourceFixtures {
    static let folder = LMFixtures.fixtures.appendingPathComponent("source")

    nonisolated(unsafe) static let source: [String: Any] = load("source.json")
    nonisolated(unsafe) static let attention: [String: Any] = load("attention.json")

    private static func load(_ name: String) -> [String: Any] {
        let data = try! Data(contentsOf: folder.appendingPathComponent(name))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static func value(_ root: [String: Any], _ path: [Any]) -> Any {
        path.reduce(root as Any) { node, key in
            if let key = key as? String { return (node as! [String: Any])[key]! }
            return (node as! [Any])[key as! Int]
        }
    }

    static func tensor(_ root: [String: Any], _ path: [Any]) throws -> Tensor {
        let stored = value(root, path) as! [String: Any]
        let shape = (stored["shape"] as! [NSNumber]).map(\.intValue)
        let data = (stored["data"] as! [NSNumber]).map(\.floatValue)
        return try Tensor(data, shape: shape)
    }
}
