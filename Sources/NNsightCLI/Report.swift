import Foundation
import NNsightTokenizers
import NNsightTorch

/// Small helpers for printing what a trace shows.
enum Report {
    /// A token as text, with whitespace made visible.
    static func token(_ id: Int, _ tokenizer: Tokenizer) -> String {
        let text = tokenizer.decode([id])
        let shown = text.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\t", with: "\\t")
        return "\"\(shown)\""
    }

    /// The `k` most likely next tokens of last-position logits `[vocabulary]`, with probabilities.
    static func top(_ logits: Tensor, _ k: Int) throws -> [(id: Int, probability: Double)] {
        let probabilities = try logits.to(.float32).softmax(dim: -1)
        let (values, indices) = try probabilities.topk(k)
        return zip(try indices.toArray(Int.self), try values.toArray(Double.self)).map { ($0, $1) }
    }

    /// The probability of token `id` under last-position logits.
    static func probability(of id: Int, in logits: Tensor) throws -> Double {
        try logits.to(.float32).softmax(dim: -1)[id].item(Double.self)
    }

    /// A bar of `width` cells for a value in [0, 1].
    static func bar(_ value: Double, width: Int = 30) -> String {
        let cells = Int((max(0, min(1, value)) * Double(width)).rounded())
        return String(repeating: "█", count: cells) + String(repeating: "·", count: width - cells)
    }

    static func percent(_ value: Double) -> String { String(format: "%5.1f%%", value * 100) }

    static func heading(_ text: String) {
        print("\n\(text)\n" + String(repeating: "─", count: text.count))
    }
}
