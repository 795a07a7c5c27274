import CTorch
import Foundation

/// Printing in PyTorch's format: `print(x)` in Swift shows what `print(x)` shows in Python,
/// e.g. `tensor([[1.0000, 2.5000],\n        [3.0000, 4.0000]])`.
extension Tensor: CustomStringConvertible {
    public var description: String {
        guard isDefined else { return "tensor(<undefined>)" }
        var suffixes: [String] = []
        if device == .meta {
            suffixes.append("device='meta'")
        } else if device != .cpu {
            suffixes.append("device='\(device)'")
        }
        let body: String
        if device == .meta {
            body = "..."
            suffixes.append("size=(\(shape.map(String.init).joined(separator: ", "))\(shape.count == 1 ? "," : ""))")
        } else if count == 0 {
            body = "[]"
            if shape != [0] {
                suffixes.append("size=(\(shape.map(String.init).joined(separator: ", "))\(shape.count == 1 ? "," : ""))")
            }
        } else {
            body = (try? TensorPrinter(self).render(indent: 7)) ?? "<unreadable>"
        }
        if ![.float32, .int64, .bool].contains(dtype) {
            suffixes.append("dtype=\(dtype)")
        }
        if let name = gradFunctionName {
            suffixes.append("grad_fn=<\(name)>")
        } else if requiresGrad {
            suffixes.append("requires_grad=True")
        }
        let tail = suffixes.isEmpty ? "" : ", " + suffixes.joined(separator: ", ")
        return "tensor(\(body)\(tail))"
    }
}

/// PyTorch's `_tensor_str`: one formatter for all elements, summarising past 1000 elements with
/// three edge items, wrapping rows at 80 columns.
private struct TensorPrinter {
    static let threshold = 1000
    static let edgeItems = 3
    static let lineWidth = 80

    let shape: [Int]
    let values: [Double]
    let dtype: DType
    let summarize: Bool
    let format: (Double) -> String
    let width: Int

    init(_ tensor: Tensor) throws(TorchError) {
        shape = tensor.shape
        dtype = tensor.dtype
        summarize = tensor.count > TensorPrinter.threshold
        values = try tensor.toArray(Double.self)
        let shown = summarize ? TensorPrinter.summarized(values, shape) : values
        (format, width) = TensorPrinter.formatter(shown, dtype)
    }

    /// The elements that a summarised print shows.
    static func summarized(_ values: [Double], _ shape: [Int]) -> [Double] {
        var result: [Double] = []
        func visit(_ dim: Int, _ offset: Int, _ stride: Int) {
            if dim == shape.count {
                result.append(values[offset])
                return
            }
            let inner = stride / Swift.max(shape[dim], 1)
            for i in shownIndices(shape[dim]) { visit(dim + 1, offset + i * inner, inner) }
        }
        visit(0, 0, values.count)
        return result
    }

    static func shownIndices(_ size: Int) -> [Int] {
        size > 2 * edgeItems ? Array(0..<edgeItems) + Array((size - edgeItems)..<size) : Array(0..<size)
    }

    static func formatter(_ values: [Double], _ dtype: DType) -> ((Double) -> String, Int) {
        let format: (Double) -> String
        if dtype == .bool {
            format = { $0 != 0 ? "True" : "False" }
        } else if !dtype.isFloatingPoint {
            format = { String(Int64($0)) }
        } else {
            let finite = values.filter { $0.isFinite && $0 != 0 }.map(Swift.abs)
            let integral = values.allSatisfy { !$0.isFinite || $0.rounded(.up) == $0 }
            let largest = finite.max() ?? 0, smallest = finite.min() ?? 0
            if integral {
                let scientific = largest > 1e8
                format = { value in
                    if let special = specialValue(value) { return special }
                    return scientific ? String(format: "%.4e", value) : String(format: "%.0f.", value)
                }
            } else {
                let scientific = !finite.isEmpty && (largest / smallest > 1000 || largest > 1e8 || smallest < 1e-4)
                format = { value in
                    if let special = specialValue(value) { return special }
                    return String(format: scientific ? "%.4e" : "%.4f", value)
                }
            }
        }
        let width = values.map { format($0).count }.max() ?? 0
        return (format, width)
    }

    static func specialValue(_ value: Double) -> String? {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        return nil
    }

    func element(_ value: Double) -> String {
        let text = format(value)
        return String(repeating: " ", count: Swift.max(0, width - text.count)) + text
    }

    func render(indent: Int) -> String {
        if shape.isEmpty { return format(values[0]) }
        return render(dim: 0, offset: 0, stride: values.count, indent: indent)
    }

    private func render(dim: Int, offset: Int, stride: Int, indent: Int) -> String {
        let size = shape[dim]
        let inner = stride / Swift.max(size, 1)
        let indices = summarize ? TensorPrinter.shownIndices(size) : Array(0..<size)
        let elided = summarize && size > 2 * TensorPrinter.edgeItems
        if dim == shape.count - 1 {
            var items = indices.map { element(values[offset + $0]) }
            if elided { items.insert("...", at: TensorPrinter.edgeItems) }
            let perLine = Swift.max(1, (TensorPrinter.lineWidth - indent) / (width + 2))
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
