/// Makes every call and every binding inside a function a named operation that a trace can read,
/// replace or skip. Python nnsight: `envoy.source` (there the forward is rewritten at run time;
/// here at compile time, so the first `.source` access costs nothing).
///
/// ```swift
/// final class Attention: Module {
///     @Sourced
///     override func forward(_ input: Tensor, _ context: ForwardContext) throws -> Tensor {
///         let scores = try query.matmul(key.transpose(-1, -2))     // matmul_0, transpose_0, scores_0
///         …
/// ```
///
/// Names follow Python's rule: a call is named after its callee joined with `_` plus a per-name
/// counter (`self.c_attn(x)` → `self_c_attn_0`, `F.softmax(x, dim: -1)` → `F_softmax_0`), a binding
/// after its name (`let h = …` → `h_0`); numbering is in execution order, inner calls first.
/// On a module's `forward` the operations appear under `envoy.source`; on any other throwing
/// function (free or a method) they appear under the `.source` of the operation that calls it
/// (Python's recursive `.source`). When no trace asks for an operation, each hook point is one
/// branch on a flag.
///
/// Closures and nested functions inside the body are left as written (their calls are not
/// operations); the function must be `throws` (untyped).
@attached(body)
@attached(peer, names: prefixed(__source_), named(sourceListing))
public macro Sourced() = #externalMacro(module: "NNsightSourceMacros", type: "SourcedMacro")
