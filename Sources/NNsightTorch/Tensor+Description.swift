internal import CNNsightTorch
import Foundation

/// Printing in PyTorch's format: `print(x)` in Swift shows what `print(x)` shows in Python,
/// e.g. `tensor([[1.0000, 2.5000],\n        [3.0000, 4.0000]])` (torch/_tensor_str.py, default
/// print options: precision 4, threshold 1000, edge items 3, line width 80).
extension Tensor: CustomStringConvertible {
    public var description: String {
        guard isDefined else { return "tensor(<undefined>)" }
        let indent = 7  // "tensor("
        var suffixes: [String] = []
        if device != .cpu {
            suffixes.append("device='\(device)'")
        }
        func sizeSuffix() -> String {
            "size=(\(shape.map(String.init).joined(separator: ", "))\(shape.count == 1 ? "," : ""))"
        }
        let body: String
        if device == .meta {
            body = "..."
            suffixes.append(sizeSuffix())
            if dtype != .float32 { suffixes.append("dtype=\(dtype)") }
        } else if count == 0 {
            body = "[]"
            if rank != 1 { suffixes.append(sizeSuffix()) }
            if dtype != .float32 { suffixes.append("dtype=\(dtype)") }
        } else {
            if ![.float32, .int64, .bool].contains(dtype) {
                suffixes.append("dtype=\(dtype)")
            }
            body = (try? TensorPrinter(self).render(indent: indent)) ?? "<unreadable>"
        }
        if let name = gradFunctionName {
            suffixes.append("grad_fn=<\(name)>")
        } else if requiresGrad {
            suffixes.append("requires_grad=True")
        }
        // torch._tensor_str._add_suffixes: a suffix that would pass the line width goes on a new line.
        var result = "tensor(" + body
        let lastNewline = result.lastIndex(of: "\n").map { result.distance(from: result.startIndex, to: $0) } ?? -1
        var lastLineLength = result.count - lastNewline + 1
        for suffix in suffixes {
            if lastLineLength + suffix.count + 2 > TensorPrinter.lineWidth {
                result += ",\n" + String(repeating: " ", count: indent) + suffix
                lastLineLength = indent + suffix.count
            } else {
                result += ", " + suffix
                lastLineLength += suffix.count + 2
            }
        }
        return result + ")"
    }
}

/// PyTorch's `_tensor_str`: one formatter for all elements (built from the shown elements only),
/// summarising past 1000 elements with three edge items, wrapping rows at 80 columns.
private struct TensorPrinter {
    static let threshold = 1000
    static let edgeItems = 3
    static let lineWidth = 80

    enum Values {
        case floating([Double])
        case integral([Int64])
        case boolean([Bool])

        subscript(_ i: Int) -> Value {
            switch self {
            case .floating(let v): .floating(v[i])
            case .integral(let v): .integral(v[i])
            case .boolean(let v): .boolean(v[i])
            }
        }
    }

    enum Value {
        case floating(Double)
        case integral(Int64)
        case boolean(Bool)
    }

    let shape: [Int]
    let values: Values
    let summarize: Bool
    let formatter: Formatter

    init(_ tensor: Tensor) throws(TorchError) {
        shape = tensor.shape
        let dtype = tensor.dtype
        summarize = tensor.count > TensorPrinter.threshold
        let shownIndices = summarize ? TensorPrinter.summarized(shape) : Array(0..<tensor.count)
        if dtype == .bool {
            let v = try tensor.toArray(Bool.self)
            values = .boolean(v)
            formatter = Formatter(integers: shownIndices.map { v[$0] ? "True" : "False" })
        } else if dtype.isFloatingPoint {
            let v = try tensor.toArray(Double.self)
            values = .floating(v)
            formatter = Formatter(floats: shownIndices.map { v[$0] })
        } else {
            let v = try tensor.toArray(Int64.self)
            values = .integral(v)
            formatter = Formatter(integers: shownIndices.map { String(v[$0]) })
        }
    }

    /// The flat positions of the elements that a summarised print shows.
    static func summarized(_ shape: [Int]) -> [Int] {
        var result: [Int] = []
        let total = shape.reduce(1, *)
        func visit(_ dim: Int, _ offset: Int, _ stride: Int) {
            if dim == shape.count {
                result.append(offset)
                return
            }
            let inner = stride / Swift.max(shape[dim], 1)
            for i in shownIndices(shape[dim]) { visit(dim + 1, offset + i * inner, inner) }
        }
        visit(0, 0, total)
        return result
    }

    static func shownIndices(_ size: Int) -> [Int] {
        size > 2 * edgeItems ? Array(0..<edgeItems) + Array((size - edgeItems)..<size) : Array(0..<size)
    }

    /// torch._tensor_str._Formatter.
    struct Formatter {
        var floating = false
        var intMode = true
        var sciMode = false
        var maxWidth = 1

        init(integers: [String]) {
            maxWidth = integers.map(\.count).max().map { Swift.max($0, 1) } ?? 1
        }

        init(floats: [Double]) {
            floating = true
            let nonzeroFinite = floats.filter { $0.isFinite && $0 != 0 }
            guard !nonzeroFinite.isEmpty else { return }
            let magnitudes = nonzeroFinite.map(Swift.abs)
            let smallest = magnitudes.min()!, largest = magnitudes.max()!
            intMode = nonzeroFinite.allSatisfy { $0.rounded(.up) == $0 }
            sciMode = largest / smallest > 1000 || largest > 1e8 || smallest < 1e-4
            for value in nonzeroFinite {
                let text: String
                if sciMode {
                    text = String(format: "%.4e", value)
                } else if intMode {
                    text = String(format: "%.0f", value) + "."
                } else {
                    text = String(format: "%.4f", value)
                }
                maxWidth = Swift.max(maxWidth, text.count)
            }
        }

        func format(_ value: Value) -> String {
            let text: String
            switch value {
            case .boolean(let b): text = b ? "True" : "False"
            case .integral(let i): text = String(i)
            case .floating(let v):
                if v.isNaN {
                    text = "nan"
                } else if v.isInfinite {
                    text = v > 0 ? "inf" : "-inf"
                } else if sciMode {
                    text = String(format: "%.4e", v)
                } else if intMode {
                    text = String(format: "%.0f", v) + "."
                } else {
                    text = String(format: "%.4f", v)
                }
            }
            return String(repeating: " ", count: Swift.max(0, maxWidth - text.count)) + text
        }
    }

    func render(indent: Int) -> String {
        if shape.isEmpty { return formatter.format(values[0]) }
        let total = shape.reduce(1, *)
        return render(dim: 0, offset: 0, stride: total, indent: indent)
    }

    private func render(dim: Int, offset: Int, stride: Int, indent: Int) -> String {
        let size = shape[dim]
        let inner = stride / Swift.max(size, 1)
        let elided = summarize && size > 2 * TensorPrinter.edgeItems
        let indices = elided ? TensorPrinter.shownIndices(size) : Array(0..<size)
        if dim == shape.count - 1 {
            var items = indices.map { formatter.format(values[offset + $0]) }
            if elided { items.insert(" ...", at: TensorPrinter.edgeItems) }
            let perLine = Swift.max(1, (TensorPrinter.lineWidth - indent) / (formatter.maxWidth + 2))
            let lines = Swift.stride(from: 0, to: items.count, by: perLine).map {
                items[$0..<Swift.min($0 + perLine, items.count)].joined(separator: ", ")
            }
            return "[" + lines.joined(separator: ",\n" + String(repeating: " ", count: indent + 1)) + "]"
        }
        var rows = indices.map { render(dim: dim + 1, offset: offset + $0 * inner, stride: inner, indent: indent + 1) }
        if elided { rows.insert("...", at: TensorPrinter.edgeItems) }
        let separator = "," + String(repeating: "\n", count: shape.count - dim - 1) + String(repeating: " ", count: indent + 1)
        return "[" + rows.joined(separator: separator) + "]"
    }
}
