import Foundation
import NNsightTorch

/// Reads the goldens that scripts/fixtures/gen_nn.py wrote with PyTorch.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/nn")

    struct StoredTensor: Decodable {
        let shape: [Int]
        let values: [Float]

        func tensor() throws -> Tensor { try Tensor(values, shape: shape) }
    }

    struct Tiny: Decodable {
        let state_dict: [String: StoredTensor]
        let named_modules: [String]
        let named_parameters: [String]
        let input: StoredTensor
        let layer1_output: StoredTensor
        let output: StoredTensor
        let output_with_layer1_doubled: StoredTensor
        let repr: String
    }

    struct Modules: Decodable {
        let tiny: Tiny
        let net_repr: String
        let net_state_dict_keys: [String]
        let mixed_repr: String
    }

    static func modules() throws -> Modules {
        try Torch.setNumThreads(1)
        let data = try Data(contentsOf: root.appendingPathComponent("modules.json"))
        return try JSONDecoder().decode(Modules.self, from: data)
    }
}

/// The largest absolute difference between two tensors' values.
func maxAbsDifference(_ a: Tensor, _ b: Tensor) throws -> Float {
    try (a - b).abs().max().item(Float.self)
}
