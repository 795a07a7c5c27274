/// llama.cpp's reordering of Llama query/key projection rows, and its inverse.
///
/// `convert_hf_to_gguf.py` (`LlamaModel.permute`) stores `q_proj.weight` and `k_proj.weight`
/// with the rows of each head reordered from Hugging Face's rotate-half RoPE layout to the
/// interleaved (GPT-J style) layout llama.cpp's kernels expect:
///
/// ```python
/// def permute(weights, n_head, n_head_kv):
///     if n_head_kv is not None and n_head != n_head_kv:
///         n_head = n_head_kv
///     return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
///             .swapaxes(1, 2).reshape(weights.shape))
/// ```
///
/// `q_proj` is permuted with `head_count` (`llama.attention.head_count`) and `k_proj` with
/// `head_count_kv` (`llama.attention.head_count_kv`). Within head `h` (`headDim` rows), HF row
/// `h·headDim + j·(headDim/2) + i` (j ∈ {0, 1}) is stored as GGUF row `h·headDim + 2i + j`.
/// A model that applies rotate-half RoPE (as the Hugging Face Llama code does) needs the
/// inverse, `unpermute`, applied to GGUF's `attn_q.weight` / `attn_k.weight` (and to their
/// biases, seen as `[rows, 1]`).
public enum LlamaQKPermutation {
    /// Undoes llama.cpp's permutation: `weights` is a row-major `[rows, columns]` buffer as
    /// stored in the GGUF file; the result is in Hugging Face row order.
    /// - Parameter headCount: `head_count` for the query projection, `head_count_kv` for the key.
    public static func unpermute<T>(_ weights: [T], rows: Int, columns: Int, headCount: Int) throws(GGUFError) -> [T] {
        try reorder(weights, rows: rows, columns: columns, headCount: headCount, toGGUF: false)
    }

    /// Applies llama.cpp's permutation (Hugging Face row order to GGUF row order).
    public static func permute<T>(_ weights: [T], rows: Int, columns: Int, headCount: Int) throws(GGUFError) -> [T] {
        try reorder(weights, rows: rows, columns: columns, headCount: headCount, toGGUF: true)
    }

    private static func reorder<T>(
        _ weights: [T], rows: Int, columns: Int, headCount: Int, toGGUF: Bool
    ) throws(GGUFError) -> [T] {
        let size = rows.multipliedReportingOverflow(by: columns)
        guard rows >= 0, columns >= 0, !size.overflow, size.partialValue == weights.count else {
            throw GGUFError(.invalidArgument("buffer of \(weights.count) values is not [\(rows), \(columns)]"))
        }
        guard headCount > 0, rows % headCount == 0, (rows / headCount) % 2 == 0 else {
            throw GGUFError(.invalidArgument(
                "\(rows) rows do not split into \(headCount) heads of an even number of rows"))
        }
        let headDim = rows / headCount
        let half = headDim / 2
        if weights.isEmpty { return weights }
        var result = weights
        weights.withUnsafeBufferPointer { src in
            result.withUnsafeMutableBufferPointer { dst in
                for h in 0 ..< headCount {
                    let base = h * headDim
                    for j in 0 ..< 2 {
                        for i in 0 ..< half {
                            let hfRow = base + j * half + i
                            let ggufRow = base + 2 * i + j
                            let (from, to) = toGGUF ? (hfRow, ggufRow) : (ggufRow, hfRow)
                            for c in 0 ..< columns {
                                dst[to * columns + c] = src[from * columns + c]
                            }
                        }
                    }
                }
            }
        }
        return result
    }
}
