// Shape-and-dtype rules for the ops that libtorch (C++, without Python's
// torch/_meta_registrations.py) cannot run on the meta device.
//
// Each op wrapper calls its rule in one line: `meta::any(inputs...) ? meta::rule(...) : at::op(...)`.
// A rule computes the output's sizes and dtype exactly as PyTorch does, raises the same kind of
// error PyTorch raises for bad shapes (a dimension out of range is an IndexError, a broadcast
// mismatch a plain error), and returns an empty meta tensor. Where libtorch does have a meta
// kernel for some cases of an op (matmul of matrices, 2-D cross entropy), the rule defers to it.
#pragma once

#include "boundary.hpp"

#include <initializer_list>

namespace ctorch::meta {

inline bool on_meta(const at::Tensor &t) { return t.defined() && t.is_meta(); }
inline bool on_meta(const std::optional<at::Tensor> &t) { return t && on_meta(*t); }
inline const at::Tensor &input(const at::Tensor &t) { return t; }
inline at::Tensor input(const std::optional<at::Tensor> &t) { return t.value_or(at::Tensor()); }

/// With some input on the meta device, the other defined inputs must be meta too, or CPU scalars
/// (0-dim), as libtorch's own device check demands.
void check_devices(std::initializer_list<at::Tensor> inputs);

/// True when any defined input lives on the meta device (checking the others' devices then).
template <typename... T> bool any(const T &...inputs) {
    if (!(on_meta(inputs) || ...)) return false;
    check_devices({input(inputs)...});
    return true;
}

/// Fails with a ValueError when any input is on the meta device: for ops whose result is values
/// (item, allclose, equal) or whose shape depends on values (multinomial, boolean-mask indexing).
template <typename... T> void refuse(const char *what, const T &...inputs) {
    TORCH_CHECK_VALUE(!(on_meta(inputs) || ...), what, " is not available on the meta device (shapes only)");
}

// ---- Elementwise ----

/// condition ? a : b, broadcasting all three; dtype: the promotion of a and b.
at::Tensor where(const at::Tensor &condition, const at::Tensor &a, const at::Tensor &b);
/// logical_and / logical_or / logical_xor: broadcasting, Bool.
at::Tensor logical(const at::Tensor &a, const at::Tensor &b);
/// a // b: broadcasting, promoted dtype (Bool unsupported, as on CPU).
at::Tensor floor_divide(const at::Tensor &a, const at::Tensor &b);
at::Tensor floor_divide(const at::Tensor &a, const at::Scalar &b);
/// isnan, isinf, logical_not: same shape, Bool.
at::Tensor predicate(const at::Tensor &a);
/// abs, relu: same shape and dtype (Bool unsupported, as on CPU).
at::Tensor same(const char *name, const at::Tensor &a);
/// matmul: the vector·vector case (dot); every other case has a libtorch meta kernel.
at::Tensor matmul(const at::Tensor &a, const at::Tensor &b);

// ---- Reductions ----

/// The floating reductions: var and std (floating input only), logsumexp (integers become the
/// default float dtype). `dims` absent or empty: every dimension.
at::Tensor var(const at::Tensor &a, at::OptionalIntArrayRef dims, bool keepdim);
at::Tensor logsumexp(const at::Tensor &a, at::OptionalIntArrayRef dims, bool keepdim);
/// prod over everything: integers and Bool become Int64.
at::Tensor prod(const at::Tensor &a);

// ---- Indexing and neural-network functions ----

at::Tensor index_select(const at::Tensor &a, int64_t dim, const at::Tensor &index);
/// indices.shape + [weight.size(1)], weight's dtype.
at::Tensor embedding(const at::Tensor &weight, const at::Tensor &indices);
at::Tensor layer_norm(const at::Tensor &x, at::IntArrayRef shape, const std::optional<at::Tensor> &weight,
                      const std::optional<at::Tensor> &bias);
/// q.shape[:-1] + [v.size(-1)], batch dimensions broadcast (key/value heads repeated with GQA).
at::Tensor scaled_dot_product_attention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
                                        const std::optional<at::Tensor> &mask, bool is_causal, bool enable_gqa);
/// Cross entropy over spatial dimensions ([N, C, d...]); the 1-D and 2-D cases defer to libtorch.
at::Tensor cross_entropy(const at::Tensor &logits, const at::Tensor &target, int64_t reduction,
                         int64_t ignore_index, double label_smoothing);

} // namespace ctorch::meta
