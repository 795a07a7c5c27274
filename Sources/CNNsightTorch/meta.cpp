// Shape-and-dtype rules for ops without a meta kernel in libtorch (see meta.hpp).
#include "meta.hpp"

#include <ATen/ExpandUtils.h>
#include <ATen/core/grad_mode.h>
#include <ATen/TensorUtils.h>
#include <ATen/WrapDimUtils.h>
#include <ATen/WrapDimUtilsMulti.h>

#include <sstream>

namespace ctorch::meta {
namespace {
using at::IntArrayRef;
using at::ScalarType;
using at::Tensor;
using Sizes = std::vector<int64_t>;

/// The result: an empty meta tensor. When grad mode is on and an input requires grad, the result
/// is tied to it (by adding nothing) so that it requires grad too and a backward pass on meta
/// tensors reaches the inputs with gradients of their shapes.
Tensor result(IntArrayRef sizes, ScalarType type, std::initializer_list<Tensor> inputs) {
    auto out = at::empty(sizes, at::TensorOptions().dtype(type).device(at::kMeta));
    if (!at::GradMode::is_enabled() || !(at::isFloatingType(type) || at::isComplexType(type))) return out;
    for (const auto &x : inputs)
        if (x.defined() && x.requires_grad()) out = out + x.sum().mul(0).to(type);
    return out;
}

Sizes broadcast(IntArrayRef a, IntArrayRef b) { return at::infer_size(a, b); }

/// a's sizes with `dims` (absent or empty: all) reduced, kept as 1 with keepdim. Dimensions wrap
/// as Python's (an out-of-range one is an IndexError); a repeated one is an error.
Sizes reduced(const Tensor &a, at::OptionalIntArrayRef dims, bool keepdim) {
    auto ndim = a.dim();
    auto mask = at::dim_list_to_bitset(dims && !dims->empty() ? dims : std::nullopt, static_cast<size_t>(ndim));
    Sizes sizes;
    for (int64_t i = 0; i < ndim; ++i) {
        if (!mask[i]) sizes.push_back(a.size(i));
        else if (keepdim) sizes.push_back(1);
    }
    return sizes;
}

ScalarType default_float() { return c10::typeMetaToScalarType(c10::get_default_dtype()); }
} // namespace

void check_devices(std::initializer_list<Tensor> inputs) {
    for (const auto &t : inputs)
        TORCH_CHECK(!t.defined() || t.is_meta() || (t.is_cpu() && t.dim() == 0),
                    "Expected all tensors to be on the same device, but found at least two devices, meta and ",
                    t.device(), "!");
}

// ---- Elementwise ----

Tensor where(const Tensor &condition, const Tensor &a, const Tensor &b) {
    TORCH_CHECK(condition.scalar_type() == at::kBool || condition.scalar_type() == at::kByte,
                "where expected condition to be a boolean tensor, but got a tensor with dtype ",
                condition.scalar_type());
    auto sizes = broadcast(broadcast(condition.sizes(), a.sizes()), b.sizes());
    return result(sizes, at::result_type(a, b), {a, b});
}

Tensor logical(const Tensor &a, const Tensor &b) { return result(broadcast(a.sizes(), b.sizes()), at::kBool, {}); }

Tensor floor_divide(const Tensor &a, const Tensor &b) {
    auto type = at::result_type(a, b);
    TORCH_CHECK_NOT_IMPLEMENTED(type != at::kBool, "\"div_floor\" not implemented for 'Bool'");
    return result(broadcast(a.sizes(), b.sizes()), type, {a, b});
}

Tensor floor_divide(const Tensor &a, const at::Scalar &b) {
    auto type = at::result_type(a, b);
    TORCH_CHECK_NOT_IMPLEMENTED(type != at::kBool, "\"div_floor\" not implemented for 'Bool'");
    return result(a.sizes(), type, {a});
}

Tensor predicate(const Tensor &a) { return result(a.sizes(), at::kBool, {}); }

Tensor same(const char *name, const Tensor &a) {
    TORCH_CHECK_NOT_IMPLEMENTED(a.scalar_type() != at::kBool, "\"", name, "\" not implemented for 'Bool'");
    return result(a.sizes(), a.scalar_type(), {a});
}

Tensor matmul(const Tensor &a, const Tensor &b) {
    if (a.dim() != 1 || b.dim() != 1) return at::matmul(a, b);
    TORCH_CHECK(a.scalar_type() == b.scalar_type(), "dot : expected both vectors to have same dtype, but found ",
                a.scalar_type(), " and ", b.scalar_type());
    TORCH_CHECK(a.numel() == b.numel(), "inconsistent tensor size, expected tensor [", a.numel(), "] and src [",
                b.numel(), "] to have the same number of elements, but got ", a.numel(), " and ", b.numel(),
                " elements respectively");
    return result({}, a.scalar_type(), {a, b});
}

// ---- Reductions ----

Tensor var(const Tensor &a, at::OptionalIntArrayRef dims, bool keepdim) {
    auto type = a.scalar_type();
    TORCH_CHECK_NOT_IMPLEMENTED(at::isFloatingType(type) || at::isComplexType(type),
                                "std and var only support floating point and complex dtypes");
    return result(reduced(a, dims, keepdim), c10::toRealValueType(type), {a});
}

Tensor logsumexp(const Tensor &a, at::OptionalIntArrayRef dims, bool keepdim) {
    auto type = at::isIntegralType(a.scalar_type(), /*includeBool=*/true) ? default_float() : a.scalar_type();
    return result(reduced(a, dims, keepdim), type, {a});
}

Tensor prod(const Tensor &a) {
    auto type = at::isIntegralType(a.scalar_type(), /*includeBool=*/true) ? at::kLong : a.scalar_type();
    return result({}, type, {a});
}

// ---- Indexing and neural-network functions ----

Tensor index_select(const Tensor &a, int64_t dim, const Tensor &index) {
    dim = at::maybe_wrap_dim(dim, a.dim());
    TORCH_CHECK_INDEX(index.dim() <= 1, "index_select(): Index is supposed to be a vector");
    TORCH_CHECK(index.scalar_type() == at::kLong || index.scalar_type() == at::kInt,
                "index_select(): Expected dtype int32 or int64 for index");
    if (a.dim() == 0) {
        TORCH_CHECK(index.numel() == 1, "index_select(): Index to scalar can have only 1 value, got ", index.numel(),
                    " value(s)");
        return result({}, a.scalar_type(), {a});
    }
    auto sizes = a.sizes().vec();
    sizes[dim] = index.numel();
    return result(sizes, a.scalar_type(), {a});
}

Tensor embedding(const Tensor &weight, const Tensor &indices) {
    TORCH_CHECK(weight.dim() == 2, "'weight' must be 2-D");
    at::checkScalarTypes("embedding", {indices, "indices", 1}, {at::kLong, at::kInt});
    auto sizes = indices.sizes().vec();
    sizes.push_back(weight.size(1));
    return result(sizes, weight.scalar_type(), {weight});
}

Tensor layer_norm(const Tensor &x, IntArrayRef shape, const std::optional<Tensor> &weight,
                  const std::optional<Tensor> &bias) {
    auto n = static_cast<int64_t>(shape.size());
    TORCH_CHECK(n >= 1, "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one ",
                "element, but got normalized_shape = ", shape);
    TORCH_CHECK(!weight || !weight->defined() || weight->sizes().equals(shape),
                "Expected weight to be of same shape as normalized_shape, but got weight of shape ",
                input(weight).sizes(), " and normalized_shape = ", shape);
    TORCH_CHECK(!bias || !bias->defined() || bias->sizes().equals(shape),
                "Expected bias to be of same shape as normalized_shape, but got bias of shape ", input(bias).sizes(),
                " and normalized_shape = ", shape);
    if (x.dim() < n || !x.sizes().slice(x.dim() - n).equals(shape)) {
        std::ostringstream expected;
        for (auto s : shape) expected << ", " << s;
        TORCH_CHECK(false, "Given normalized_shape=", shape, ", expected input with shape [*", expected.str(),
                    "], but got input of size", x.sizes());
    }
    return result(x.sizes(), x.scalar_type(), {x, input(weight), input(bias)});
}

Tensor scaled_dot_product_attention(const Tensor &q, const Tensor &k, const Tensor &v,
                                    const std::optional<Tensor> &mask, bool is_causal, bool enable_gqa) {
    TORCH_CHECK(q.dim() >= 2 && k.dim() >= 2 && v.dim() >= 2,
                "Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: ", q.dim(),
                " key.dim: ", k.dim(), " and value.dim: ", v.dim(), " instead.");
    TORCH_CHECK(q.scalar_type() == k.scalar_type() && q.scalar_type() == v.scalar_type(),
                "Expected query, key, and value to have the same dtype, but got query.dtype: ", q.scalar_type(),
                " key.dtype: ", k.scalar_type(), " and value.dtype: ", v.scalar_type(), " instead.");
    TORCH_CHECK(at::isFloatingType(q.scalar_type()), "expected scalar type Float but found ", q.scalar_type());
    bool masked = mask && mask->defined();
    if (masked)
        TORCH_CHECK(mask->scalar_type() == at::kBool || mask->scalar_type() == q.scalar_type(),
                    "Expected attn_mask dtype to be bool or float or to match query dtype, but got attn_mask.dtype: ",
                    mask->scalar_type(), " and  query.dtype: ", q.scalar_type(), " instead.");
    TORCH_CHECK(!(masked && is_causal),
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True");
    TORCH_CHECK(q.size(-1) == k.size(-1), "scaled_dot_product_attention: query and key must have the same last ",
                "dimension, but got query of size ", q.sizes(), " and key of size ", k.sizes());

    auto batch = [](const Tensor &t) { return t.sizes().slice(0, t.dim() - 2).vec(); };
    Sizes qb = batch(q), kb = batch(k), vb = batch(v);
    if (enable_gqa && q.dim() >= 3 && k.dim() >= 3 && v.dim() >= 3) {
        // Key and value heads are repeated to the query's (dim -3).
        auto heads = q.size(-3), kh = k.size(-3), vh = v.size(-3);
        TORCH_CHECK(kh > 0 && vh > 0 && heads % kh == 0 && heads % vh == 0,
                    "Number of heads in key and value must divide the number of heads in query");
        kb.back() = heads;
        vb.back() = heads;
    }
    auto scores = broadcast(broadcast(qb, kb), vb);
    scores.push_back(q.size(-2));
    scores.push_back(k.size(-2));
    if (masked) scores = broadcast(scores, mask->sizes());
    scores.back() = v.size(-1);
    return result(scores, q.scalar_type(), {q, k, v, input(mask)});
}

Tensor cross_entropy(const Tensor &logits, const Tensor &target, int64_t reduction, int64_t ignore_index,
                     double label_smoothing) {
    // libtorch has meta kernels for [C] and [N, C] logits; its spatial loss (nll_loss2d) has none.
    if (logits.dim() <= 2)
        return at::cross_entropy_loss(logits, target, std::nullopt, reduction, ignore_index, label_smoothing);
    Sizes batch{logits.size(0)};
    for (int64_t i = 2; i < logits.dim(); ++i) batch.push_back(logits.size(i));
    if (at::isFloatingType(target.scalar_type())) {
        // Class probabilities: the same shape as the logits.
        TORCH_CHECK(target.sizes().equals(logits.sizes()), "Expected target size ", logits.sizes(), ", got ",
                    target.sizes());
    } else {
        TORCH_CHECK_VALUE(target.dim() >= 1 && target.size(0) == logits.size(0), "Expected input batch_size (",
                          logits.size(0), ") to match target batch_size (", target.dim() ? target.size(0) : 0,
                          ").");
        TORCH_CHECK(target.sizes().equals(batch), "Expected target size ", IntArrayRef(batch), ", got ",
                    target.sizes());
        TORCH_CHECK(target.scalar_type() == at::kLong, "expected scalar type Long but found ", target.scalar_type());
    }
    return result(reduction == 0 ? IntArrayRef(batch) : IntArrayRef{}, logits.scalar_type(), {logits});
}

} // namespace ctorch::meta
