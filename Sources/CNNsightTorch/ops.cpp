// Elementwise, reduction, shape, indexing and neural-network ops. Most functions come from the
// declarative lists in ctorch.h; each entry maps to the libtorch function of the same name.
#include "boundary.hpp"
#include "meta.hpp"

#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/core/GradMode.h>

using namespace ctorch;

namespace ctorch::ops {
using namespace at;
// Entries of the lists whose libtorch form is not `at::<name>(a)`.
inline Tensor contiguous(const Tensor &a) { return a.contiguous(); }
inline Tensor gelu_tanh(const Tensor &a) { return at::gelu(a, "tanh"); }
inline Tensor gelu(const Tensor &a) { return at::gelu(a); }
// Entries without a meta kernel in libtorch for every input (meta.hpp has their shape rules).
inline Tensor isnan(const Tensor &a) { return meta::any(a) ? meta::predicate(a) : at::isnan(a); }
inline Tensor isinf(const Tensor &a) { return meta::any(a) ? meta::predicate(a) : at::isinf(a); }
inline Tensor logical_not(const Tensor &a) { return meta::any(a) ? meta::predicate(a) : at::logical_not(a); }
inline Tensor abs(const Tensor &a) { return meta::any(a) ? meta::same("abs", a) : at::abs(a); }
inline Tensor relu(const Tensor &a) { return meta::any(a) ? meta::same("relu", a) : at::relu(a); }
inline Tensor matmul(const Tensor &a, const Tensor &b) { return meta::any(a, b) ? meta::matmul(a, b) : at::matmul(a, b); }
inline Tensor logical_and(const Tensor &a, const Tensor &b) {
    return meta::any(a, b) ? meta::logical(a, b) : at::logical_and(a, b);
}
inline Tensor logical_or(const Tensor &a, const Tensor &b) {
    return meta::any(a, b) ? meta::logical(a, b) : at::logical_or(a, b);
}
inline Tensor logical_xor(const Tensor &a, const Tensor &b) {
    return meta::any(a, b) ? meta::logical(a, b) : at::logical_xor(a, b);
}
inline Tensor floor_divide(const Tensor &a, const Tensor &b) {
    return meta::any(a, b) ? meta::floor_divide(a, b) : at::floor_divide(a, b);
}
inline Tensor floor_divide(const Tensor &a, const Scalar &b) {
    return meta::any(a) ? meta::floor_divide(a, b) : at::floor_divide(a, b);
}
} // namespace ctorch::ops

namespace {
/// Writes split results into caller-owned space, failing cleanly when it is too small. Every
/// handle is made before any is written, so a failed allocation leaves `pieces` untouched.
void write_pieces(std::vector<at::Tensor> parts, ctorch_tensor *pieces, size_t capacity, size_t *count) {
    *count = parts.size();
    TORCH_CHECK_VALUE(parts.size() <= capacity, "split produced ", parts.size(), " pieces; room for ", capacity);
    std::vector<std::unique_ptr<ctorch_tensor_s>> handles;
    handles.reserve(parts.size());
    for (auto &part : parts) handles.emplace_back(new ctorch_tensor_s{std::move(part)});
    for (size_t i = 0; i < handles.size(); ++i) pieces[i] = handles[i].release();
}

std::vector<int64_t> all_dims(const at::Tensor &a) {
    std::vector<int64_t> dims(a.dim());
    for (int64_t i = 0; i < a.dim(); ++i) dims[i] = i;
    return dims;
}

std::vector<at::Tensor> tensor_list(const ctorch_tensor *tensors, size_t n) {
    std::vector<at::Tensor> list;
    list.reserve(n);
    for (size_t i = 0; i < n; ++i) list.push_back(tensor(tensors[i]));
    return list;
}

std::vector<at::indexing::TensorIndex> index_list(const ctorch_tensor_index *indices, size_t n) {
    using namespace at::indexing;
    std::vector<TensorIndex> list;
    list.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        const auto &index = indices[i];
        switch (index.kind) {
        case CTORCH_INDEX_INT: list.emplace_back(index.value); break;
        case CTORCH_INDEX_SLICE:
            list.emplace_back(Slice(index.has_start ? std::optional<c10::SymInt>(index.value) : std::nullopt,
                                    index.has_stop ? std::optional<c10::SymInt>(index.stop) : std::nullopt,
                                    index.step));
            break;
        case CTORCH_INDEX_ELLIPSIS: list.emplace_back(Ellipsis); break;
        case CTORCH_INDEX_NONE: list.emplace_back(None); break;
        case CTORCH_INDEX_TENSOR: list.emplace_back(tensor(index.tensor)); break;
        case CTORCH_INDEX_BOOL: list.emplace_back(index.value != 0); break;
        default: TORCH_CHECK_VALUE(false, "unknown index kind ", static_cast<int>(index.kind));
        }
    }
    return list;
}
} // namespace

namespace {
/// Whether `x Wᵀ + b` may run on libtorch's oneDNN inner product (`mkldnn::_linear_pointwise`,
/// the kernel torch.compile uses for CPU linear layers) instead of `at::linear`'s MKL sgemm:
/// float32 CPU tensors that autograd need not record (the op has no derivative), except for
/// one or two rows against a transposed weight (GPT-2's `Conv1D`), where MKL's GEMV is faster.
/// The same float32 arithmetic in another summation order. Measured on this machine (AMD Zen 4,
/// one thread, weights streamed from memory): 1.2–1.9× faster than MKL for 4–128 rows (GPT-2's
/// 50257-wide `lm_head`: 16 rows 22 ms against 34 ms, 8 rows 16 against 26 ms, 1 row 9.8
/// against 11.4 ms); for one row against a transposed weight MKL is up to 2× faster. Small
/// weights stay on MKL: oneDNN's per-call set-up (about 10 µs) outweighs any gain there (a
/// Linear(5, 10) took 12 µs on oneDNN against 2 µs on MKL).
bool use_onednn_linear(const at::Tensor &x, const at::Tensor &w, const std::optional<at::Tensor> &b) {
    static const bool available = at::hasMKLDNN() &&
        c10::Dispatcher::singleton().findSchema({"mkldnn::_linear_pointwise", ""}).has_value();
    auto plain = [](const at::Tensor &t) {
        return t.device().is_cpu() && t.layout() == at::kStrided && t.scalar_type() == at::kFloat;
    };
    if (!available || x.dim() < 2 || w.dim() != 2 || !plain(x) || !plain(w) || x.size(-1) != w.size(1)) return false;
    if (w.numel() < (int64_t(1) << 16)) return false;
    if (b && b->defined() && (!plain(*b) || b->dim() != 1 || b->size(0) != w.size(0))) return false;
    bool records = c10::GradMode::is_enabled() &&
        (x.requires_grad() || w.requires_grad() || (b && b->defined() && b->requires_grad()));
    if (records) return false;
    bool transposed = !w.is_contiguous() && w.t().is_contiguous();
    return !(transposed && x.numel() <= 2 * x.size(-1));
}

at::Tensor onednn_linear(const at::Tensor &x, const at::Tensor &w, const std::optional<at::Tensor> &b) {
    static const auto op = c10::Dispatcher::singleton()
        .findSchemaOrThrow("mkldnn::_linear_pointwise", "")
        .typed<at::Tensor(const at::Tensor &, const at::Tensor &, const std::optional<at::Tensor> &,
                          std::string_view, c10::List<std::optional<at::Scalar>>, std::optional<std::string_view>)>();
    return op.call(x, w, b, "none", c10::List<std::optional<at::Scalar>>(), std::nullopt);
}

/// oneDNN's blocked layout of a large float32 or bfloat16 CPU weight
/// (`mkldnn::_reorder_linear_weight`, an opaque `Mkldnn`-layout tensor); undefined where
/// unavailable or where `use_onednn_linear` would keep the plain weight on MKL (small weights).
/// The inner product then reads the weight as stored instead of repacking it on every call.
/// Measured on this machine with the same ops from PyTorch (Benchmarks/python/linear_layouts.py:
/// one thread, SmolLM2's 210 layer weights, each read once from memory per pass): 1 row 35
/// against 38 ms, 8 rows 38 against 59 ms, 16 rows 51 against 71 ms; bfloat16 at one row 19
/// against 23 ms.
at::Tensor onednn_pack_weight(const at::Tensor &w) {
    static const auto op = [] {
        auto schema = c10::Dispatcher::singleton().findSchema({"mkldnn::_reorder_linear_weight", ""});
        return schema ? std::optional(schema->typed<at::Tensor(const at::Tensor &, std::optional<int64_t>)>())
                      : std::nullopt;
    }();
    auto dtype = w.scalar_type();
    if (!op || !at::hasMKLDNN() || w.dim() != 2 || !w.device().is_cpu() || w.layout() != at::kStrided ||
        (dtype != at::kFloat && dtype != at::kBFloat16) || w.numel() < (int64_t(1) << 16))
        return at::Tensor();
    at::NoGradGuard no_grad;
    return op->call(w.contiguous(), std::nullopt);
}

/// Whether `x` and `bias` may meet the packed weight `p` in oneDNN's inner product: CPU tensors of
/// the packed dtype that autograd need not record.
bool use_packed_linear(const at::Tensor &x, const at::Tensor &p, const std::optional<at::Tensor> &b) {
    auto plain = [&](const at::Tensor &t) {
        return t.device().is_cpu() && t.layout() == at::kStrided && t.scalar_type() == p.scalar_type();
    };
    if (x.dim() < 2 || !plain(x)) return false;
    if (b && b->defined() && (!plain(*b) || b->dim() != 1 || b->size(0) != p.size(0))) return false;
    return !(c10::GradMode::is_enabled() && (x.requires_grad() || (b && b->defined() && b->requires_grad())));
}
} // namespace

extern "C" {

#define CTORCH_DEFINE_UNARY(name)                                                                   \
    ctorch_status ctorch_##name(ctorch_tensor a, ctorch_tensor *out) noexcept {                     \
        return guarded([&] { *out = wrap(ops::name(tensor(a))); });                                 \
    }
#define CTORCH_DEFINE_BINARY(name)                                                                  \
    ctorch_status ctorch_##name(ctorch_tensor a, ctorch_tensor b, ctorch_tensor *out) noexcept {    \
        return guarded([&] { *out = wrap(ops::name(tensor(a), tensor(b))); });                      \
    }
#define CTORCH_DEFINE_SCALAR(name)                                                                  \
    ctorch_status ctorch_##name##_scalar(ctorch_tensor a, ctorch_scalar s, ctorch_tensor *out) noexcept { \
        return guarded([&] { *out = wrap(ops::name(tensor(a), scalar(s))); });                      \
    }
#define CTORCH_DEFINE_INPLACE(name)                                                                 \
    ctorch_status ctorch_##name##_(ctorch_tensor a, ctorch_tensor b) noexcept {                     \
        return guarded([&] { tensor(a).name##_(tensor(b)); });                                      \
    }                                                                                               \
    ctorch_status ctorch_##name##_scalar_(ctorch_tensor a, ctorch_scalar s) noexcept {              \
        return guarded([&] { tensor(a).name##_(scalar(s)); });                                      \
    }
CTORCH_UNARY_OPS(CTORCH_DEFINE_UNARY)
CTORCH_BINARY_OPS(CTORCH_DEFINE_BINARY)
CTORCH_SCALAR_OPS(CTORCH_DEFINE_SCALAR)
CTORCH_INPLACE_OPS(CTORCH_DEFINE_INPLACE)

ctorch_status ctorch_rsub_scalar(ctorch_tensor a, ctorch_scalar s, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::rsub(tensor(a), scalar(s))); });
}
ctorch_status ctorch_rdiv_scalar(ctorch_tensor a, ctorch_scalar s, ctorch_tensor *out) noexcept {
    return guarded([&] {
        auto number = c10::scalar_to_tensor(scalar(s), tensor(a).device());
        number.unsafeGetTensorImpl()->set_wrapped_number(true);
        *out = wrap(at::div(number, tensor(a)));
    });
}
ctorch_status ctorch_rpow_scalar(ctorch_tensor a, ctorch_scalar s, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::pow(scalar(s), tensor(a))); });
}

ctorch_status ctorch_clamp(ctorch_tensor a, bool has_min, ctorch_scalar min, bool has_max, ctorch_scalar max,
                           ctorch_tensor *out) noexcept {
    return guarded([&] {
        *out = wrap(at::clamp(tensor(a), has_min ? std::optional<at::Scalar>(scalar(min)) : std::nullopt,
                              has_max ? std::optional<at::Scalar>(scalar(max)) : std::nullopt));
    });
}
ctorch_status ctorch_clamp_(ctorch_tensor a, bool has_min, ctorch_scalar min, bool has_max,
                            ctorch_scalar max) noexcept {
    return guarded([&] {
        tensor(a).clamp_(has_min ? std::optional<at::Scalar>(scalar(min)) : std::nullopt,
                         has_max ? std::optional<at::Scalar>(scalar(max)) : std::nullopt);
    });
}
ctorch_status ctorch_where(ctorch_tensor condition, ctorch_tensor a, ctorch_tensor b, ctorch_tensor *out) noexcept {
    return guarded([&] {
        const auto &c = tensor(condition), &x = tensor(a), &y = tensor(b);
        *out = wrap(meta::any(c, x, y) ? meta::where(c, x, y) : at::where(c, x, y));
    });
}
ctorch_status ctorch_allclose(ctorch_tensor a, ctorch_tensor b, double rtol, double atol, bool *out) noexcept {
    return guarded([&] {
        meta::refuse("allclose", tensor(a), tensor(b));
        *out = at::allclose(tensor(a), tensor(b), rtol, atol);
    });
}
ctorch_status ctorch_equal(ctorch_tensor a, ctorch_tensor b, bool *out) noexcept {
    return guarded([&] {
        meta::refuse("equal", tensor(a), tensor(b));
        *out = at::equal(tensor(a), tensor(b));
    });
}

// ---- In place ----

ctorch_status ctorch_zero_(ctorch_tensor a) noexcept { return guarded([&] { tensor(a).zero_(); }); }
ctorch_status ctorch_fill_(ctorch_tensor a, ctorch_scalar value) noexcept {
    return guarded([&] { tensor(a).fill_(scalar(value)); });
}
ctorch_status ctorch_copy_(ctorch_tensor a, ctorch_tensor source) noexcept {
    return guarded([&] { tensor(a).copy_(tensor(source)); });
}
ctorch_status ctorch_masked_fill_(ctorch_tensor a, ctorch_tensor mask, ctorch_scalar value) noexcept {
    return guarded([&] { tensor(a).masked_fill_(tensor(mask), scalar(value)); });
}
ctorch_status ctorch_uniform_(ctorch_tensor a, double from, double to, ctorch_generator g) noexcept {
    return guarded([&] { tensor(a).uniform_(from, to, generator(g)); });
}
ctorch_status ctorch_normal_(ctorch_tensor a, double mean, double std, ctorch_generator g) noexcept {
    return guarded([&] { tensor(a).normal_(mean, std, generator(g)); });
}

// ---- Reductions ----

ctorch_status ctorch_sum(ctorch_tensor a, const int64_t *dims, size_t ndims, bool keepdim, ctorch_dtype d,
                         ctorch_tensor *out) noexcept {
    return guarded([&] {
        auto type = d == CTORCH_DTYPE_UNKNOWN ? std::nullopt : std::optional<at::ScalarType>(scalar_type(d));
        // Python's x.sum() is the overload without dims (its grad_fn is SumBackward0).
        *out = wrap(!dims && !keepdim ? at::sum(tensor(a), type)
                                      : at::sum(tensor(a), optional_dims(dims, ndims), keepdim, type));
    });
}
ctorch_status ctorch_mean(ctorch_tensor a, const int64_t *dims, size_t ndims, bool keepdim,
                          ctorch_tensor *out) noexcept {
    // Python's x.mean() is the overload without dims (its grad_fn is MeanBackward0).
    return guarded([&] {
        *out = wrap(!dims && !keepdim ? at::mean(tensor(a)) : at::mean(tensor(a), optional_dims(dims, ndims), keepdim));
    });
}
ctorch_status ctorch_prod(ctorch_tensor a, bool has_dim, int64_t dim, bool keepdim, ctorch_tensor *out) noexcept {
    return guarded([&] {
        const auto &x = tensor(a);
        *out = wrap(has_dim ? at::prod(x, dim, keepdim) : meta::any(x) ? meta::prod(x) : at::prod(x));
    });
}
ctorch_status ctorch_amax(ctorch_tensor a, const int64_t *dims, size_t ndims, bool keepdim,
                          ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::amax(tensor(a), dims ? ints(dims, ndims) : at::IntArrayRef{}, keepdim)); });
}
ctorch_status ctorch_amin(ctorch_tensor a, const int64_t *dims, size_t ndims, bool keepdim,
                          ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::amin(tensor(a), dims ? ints(dims, ndims) : at::IntArrayRef{}, keepdim)); });
}
ctorch_status ctorch_var(ctorch_tensor a, const int64_t *dims, size_t ndims, double correction, bool keepdim,
                         ctorch_tensor *out) noexcept {
    return guarded([&] {
        const auto &x = tensor(a);
        auto d = optional_dims(dims, ndims);
        *out = wrap(meta::any(x) ? meta::var(x, d, keepdim) : at::var(x, d, at::Scalar(correction), keepdim));
    });
}
ctorch_status ctorch_std(ctorch_tensor a, const int64_t *dims, size_t ndims, double correction, bool keepdim,
                         ctorch_tensor *out) noexcept {
    return guarded([&] {
        const auto &x = tensor(a);
        auto d = optional_dims(dims, ndims);
        *out = wrap(meta::any(x) ? meta::var(x, d, keepdim) : at::std(x, d, at::Scalar(correction), keepdim));
    });
}
ctorch_status ctorch_logsumexp(ctorch_tensor a, const int64_t *dims, size_t ndims, bool keepdim,
                               ctorch_tensor *out) noexcept {
    return guarded([&] {
        const auto &x = tensor(a);
        auto every = all_dims(x);
        auto d = dims ? ints(dims, ndims) : at::IntArrayRef(every);
        *out = wrap(meta::any(x) ? meta::logsumexp(x, d, keepdim) : at::logsumexp(x, d, keepdim));
    });
}
ctorch_status ctorch_norm(ctorch_tensor a, double p, const int64_t *dims, size_t ndims, bool keepdim,
                          ctorch_tensor *out) noexcept {
    return guarded([&] {
        *out = wrap(at::linalg_vector_norm(tensor(a), at::Scalar(p), optional_dims(dims, ndims), keepdim));
    });
}
ctorch_status ctorch_all(ctorch_tensor a, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::all(tensor(a))); });
}
ctorch_status ctorch_any(ctorch_tensor a, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::any(tensor(a))); });
}
ctorch_status ctorch_max_dim(ctorch_tensor a, int64_t dim, bool keepdim, ctorch_tensor *values,
                             ctorch_tensor *indices) noexcept {
    return guarded([&] {
        auto [v, i] = at::max(tensor(a), dim, keepdim);
        wrap_pair(std::move(v), std::move(i), values, indices);
    });
}
ctorch_status ctorch_min_dim(ctorch_tensor a, int64_t dim, bool keepdim, ctorch_tensor *values,
                             ctorch_tensor *indices) noexcept {
    return guarded([&] {
        auto [v, i] = at::min(tensor(a), dim, keepdim);
        wrap_pair(std::move(v), std::move(i), values, indices);
    });
}
ctorch_status ctorch_argmax(ctorch_tensor a, bool has_dim, int64_t dim, bool keepdim, ctorch_tensor *out) noexcept {
    return guarded([&] {
        *out = wrap(at::argmax(tensor(a), has_dim ? std::optional<int64_t>(dim) : std::nullopt, keepdim));
    });
}
ctorch_status ctorch_argmin(ctorch_tensor a, bool has_dim, int64_t dim, bool keepdim, ctorch_tensor *out) noexcept {
    return guarded([&] {
        *out = wrap(at::argmin(tensor(a), has_dim ? std::optional<int64_t>(dim) : std::nullopt, keepdim));
    });
}
ctorch_status ctorch_softmax(ctorch_tensor a, int64_t dim, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::softmax(tensor(a), dim)); });
}
ctorch_status ctorch_log_softmax(ctorch_tensor a, int64_t dim, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::log_softmax(tensor(a), dim)); });
}
ctorch_status ctorch_cumsum(ctorch_tensor a, int64_t dim, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::cumsum(tensor(a), dim)); });
}

// ---- Shape ----

#define CTORCH_DEFINE_SIZES(name)                                                                   \
    ctorch_status ctorch_##name(ctorch_tensor a, const int64_t *sizes, size_t n, ctorch_tensor *out) noexcept { \
        return guarded([&] { *out = wrap(tensor(a).name(ints(sizes, n))); });                       \
    }
CTORCH_SIZES_OPS(CTORCH_DEFINE_SIZES)

ctorch_status ctorch_transpose(ctorch_tensor a, int64_t dim0, int64_t dim1, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(tensor(a).transpose(dim0, dim1)); });
}
ctorch_status ctorch_flatten(ctorch_tensor a, int64_t start_dim, int64_t end_dim, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(tensor(a).flatten(start_dim, end_dim)); });
}
ctorch_status ctorch_squeeze(ctorch_tensor a, bool has_dim, int64_t dim, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(has_dim ? tensor(a).squeeze(dim) : tensor(a).squeeze()); });
}
ctorch_status ctorch_unsqueeze(ctorch_tensor a, int64_t dim, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(tensor(a).unsqueeze(dim)); });
}
ctorch_status ctorch_narrow(ctorch_tensor a, int64_t dim, int64_t start, int64_t length, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(tensor(a).narrow(dim, start, length)); });
}
ctorch_status ctorch_select(ctorch_tensor a, int64_t dim, int64_t index, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(tensor(a).select(dim, index)); });
}
ctorch_status ctorch_cat(const ctorch_tensor *tensors, size_t n, int64_t dim, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::cat(tensor_list(tensors, n), dim)); });
}
ctorch_status ctorch_stack(const ctorch_tensor *tensors, size_t n, int64_t dim, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::stack(tensor_list(tensors, n), dim)); });
}
ctorch_status ctorch_split(ctorch_tensor a, int64_t split_size, int64_t dim, ctorch_tensor *pieces, size_t capacity,
                           size_t *count) noexcept {
    return guarded([&] { write_pieces(tensor(a).split(split_size, dim), pieces, capacity, count); });
}
ctorch_status ctorch_split_sizes(ctorch_tensor a, const int64_t *sizes, size_t n, int64_t dim, ctorch_tensor *pieces,
                                 size_t capacity, size_t *count) noexcept {
    return guarded([&] { write_pieces(tensor(a).split_with_sizes(ints(sizes, n), dim), pieces, capacity, count); });
}
ctorch_status ctorch_chunk(ctorch_tensor a, int64_t chunks, int64_t dim, ctorch_tensor *pieces, size_t capacity,
                           size_t *count) noexcept {
    return guarded([&] { write_pieces(tensor(a).chunk(chunks, dim), pieces, capacity, count); });
}
ctorch_status ctorch_gather(ctorch_tensor a, int64_t dim, ctorch_tensor index, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::gather(tensor(a), dim, tensor(index))); });
}
ctorch_status ctorch_index_select(ctorch_tensor a, int64_t dim, ctorch_tensor index, ctorch_tensor *out) noexcept {
    return guarded([&] {
        const auto &x = tensor(a), &i = tensor(index);
        *out = wrap(meta::any(x, i) ? meta::index_select(x, dim, i) : at::index_select(x, dim, i));
    });
}
ctorch_status ctorch_masked_fill(ctorch_tensor a, ctorch_tensor mask, ctorch_tensor value,
                                 ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::masked_fill(tensor(a), tensor(mask), tensor(value))); });
}
ctorch_status ctorch_topk(ctorch_tensor a, int64_t k, int64_t dim, bool largest, bool sorted, ctorch_tensor *values,
                          ctorch_tensor *indices) noexcept {
    return guarded([&] {
        auto [v, i] = at::topk(tensor(a), k, dim, largest, sorted);
        wrap_pair(std::move(v), std::move(i), values, indices);
    });
}
ctorch_status ctorch_sort(ctorch_tensor a, int64_t dim, bool descending, ctorch_tensor *values,
                          ctorch_tensor *indices) noexcept {
    return guarded([&] {
        auto [v, i] = at::sort(tensor(a), dim, descending);
        wrap_pair(std::move(v), std::move(i), values, indices);
    });
}
ctorch_status ctorch_argsort(ctorch_tensor a, int64_t dim, bool descending, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::argsort(tensor(a), dim, descending)); });
}
ctorch_status ctorch_multinomial(ctorch_tensor probabilities, int64_t samples, bool replacement, ctorch_generator g,
                                 ctorch_tensor *out) noexcept {
    return guarded([&] {
        meta::refuse("multinomial (its samples are values)", tensor(probabilities));
        *out = wrap(at::multinomial(tensor(probabilities), samples, replacement, generator(g)));
    });
}
ctorch_status ctorch_tril(ctorch_tensor a, int64_t diagonal, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::tril(tensor(a), diagonal)); });
}
ctorch_status ctorch_triu(ctorch_tensor a, int64_t diagonal, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::triu(tensor(a), diagonal)); });
}

// ---- Indexing ----

ctorch_status ctorch_index(ctorch_tensor a, const ctorch_tensor_index *indices, size_t n, ctorch_tensor *out) noexcept {
    return guarded([&] {
        for (size_t i = 0; i < n; ++i)
            if (indices[i].kind == CTORCH_INDEX_TENSOR && tensor(indices[i].tensor).defined() &&
                (tensor(indices[i].tensor).scalar_type() == at::kBool ||
                 tensor(indices[i].tensor).scalar_type() == at::kByte))
                meta::refuse("indexing with a boolean mask (its result's shape depends on values)", tensor(a),
                             tensor(indices[i].tensor));
        *out = wrap(tensor(a).index(index_list(indices, n)));
    });
}

ctorch_status ctorch_index_put_(ctorch_tensor a, const ctorch_tensor_index *indices, size_t n,
                                ctorch_tensor value) noexcept {
    return guarded([&] {
        at::Tensor target = tensor(a);
        auto source = tensor(value);
        if (source.defined() && (source.scalar_type() != target.scalar_type() || source.device() != target.device()))
            source = source.to(target.device(), target.scalar_type());
        target.index_put_(index_list(indices, n), source);
    });
}

// ---- Neural-network functions ----

ctorch_status ctorch_linear(ctorch_tensor x, ctorch_tensor weight, ctorch_tensor bias, ctorch_tensor *out) noexcept {
    return guarded([&] {
        const auto &a = tensor(x), &w = tensor(weight);
        auto b = optional_tensor(bias);
        *out = wrap(use_onednn_linear(a, w, b) ? onednn_linear(a, w, b) : at::linear(a, w, b));
    });
}
ctorch_status ctorch_linear_pack_weight(ctorch_tensor weight, ctorch_tensor *out) noexcept {
    return guarded([&] {
        auto packed = onednn_pack_weight(tensor(weight));
        *out = packed.defined() ? wrap(std::move(packed)) : nullptr;
    });
}
ctorch_status ctorch_linear_unpack_weight(ctorch_tensor packed, ctorch_tensor *out) noexcept {
    return guarded([&] {
        const auto &p = tensor(packed);
        TORCH_CHECK_VALUE(p.is_mkldnn(), "unpacking a linear weight: the tensor is not in a packed layout");
        *out = wrap(p.to_dense());
    });
}
ctorch_status ctorch_linear_packed(ctorch_tensor x, ctorch_tensor packed, ctorch_tensor plain, ctorch_tensor bias,
                                   ctorch_tensor *out) noexcept {
    return guarded([&] {
        const auto &a = tensor(x), &p = tensor(packed);
        auto w = optional_tensor(plain);
        auto b = optional_tensor(bias);
        TORCH_CHECK_VALUE(p.is_mkldnn() && p.dim() == 2, "linear: the weight is not in a packed layout");
        TORCH_CHECK_VALUE(!w || w->sizes() == p.sizes(), "linear: the plain weight has shape ", w->sizes(),
                          ", the packed one ", p.sizes());
        TORCH_CHECK_VALUE(a.dim() >= 1, "linear: the input is a scalar");
        TORCH_CHECK_VALUE(a.size(-1) == p.size(1), "linear: input of shape ", a.sizes(),
                          " cannot be multiplied by a weight of shape ", p.sizes(), " (", a.size(-1), " != ",
                          p.size(1), ")");
        // One float32 row against a transposed plain weight: MKL's GEMV reads it faster than the
        // inner product reads the packed form (SmolLM2's lm_head: 5.5 against 7.5 ms; at two rows
        // 10.1 against 9.0, and in bfloat16 the packed form wins at any row count;
        // Benchmarks/python/linear_layouts.py).
        bool one_row = a.numel() == a.size(-1) && a.scalar_type() == at::kFloat;
        bool transposed = w && !w->is_contiguous() && w->t().is_contiguous();
        if (one_row && transposed) {
            *out = wrap(at::linear(a, *w, b));
        } else if (use_packed_linear(a, p, b)) {
            *out = wrap(onednn_linear(a, p, b));
        } else {
            *out = wrap(at::linear(a, w ? *w : p.to_dense(), b));
        }
    });
}
ctorch_status ctorch_embedding(ctorch_tensor weight, ctorch_tensor indices, ctorch_tensor *out) noexcept {
    return guarded([&] {
        const auto &w = tensor(weight), &i = tensor(indices);
        *out = wrap(meta::any(w, i) ? meta::embedding(w, i) : at::embedding(w, i));
    });
}
ctorch_status ctorch_layer_norm(ctorch_tensor x, const int64_t *shape, size_t n, ctorch_tensor weight,
                                ctorch_tensor bias, double eps, ctorch_tensor *out) noexcept {
    return guarded([&] {
        const auto &h = tensor(x);
        auto w = optional_tensor(weight), b = optional_tensor(bias);
        *out = wrap(meta::any(h, w, b) ? meta::layer_norm(h, ints(shape, n), w, b)
                                       : at::layer_norm(h, ints(shape, n), w, b, eps));
    });
}
ctorch_status ctorch_rms_norm(ctorch_tensor x, const int64_t *shape, size_t n, ctorch_tensor weight, bool has_eps,
                              double eps, ctorch_tensor *out) noexcept {
    return guarded([&] {
        *out = wrap(at::rms_norm(tensor(x), ints(shape, n), optional_tensor(weight),
                                 has_eps ? std::optional<double>(eps) : std::nullopt));
    });
}
ctorch_status ctorch_dropout(ctorch_tensor x, double p, bool train, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::dropout(tensor(x), p, train)); });
}
ctorch_status ctorch_scaled_dot_product_attention(ctorch_tensor q, ctorch_tensor k, ctorch_tensor v,
                                                  ctorch_tensor mask, double dropout_p, bool is_causal,
                                                  bool has_scale, double scale, bool enable_gqa,
                                                  ctorch_tensor *out) noexcept {
    return guarded([&] {
        const auto &query = tensor(q), &key = tensor(k), &value = tensor(v);
        auto m = optional_tensor(mask);
        *out = wrap(meta::any(query, key, value, m)
                        ? meta::scaled_dot_product_attention(query, key, value, m, is_causal, enable_gqa)
                        : at::scaled_dot_product_attention(query, key, value, m, dropout_p, is_causal,
                                                           has_scale ? std::optional<double>(scale) : std::nullopt,
                                                           enable_gqa));
    });
}
ctorch_status ctorch_cross_entropy(ctorch_tensor logits, ctorch_tensor target, int32_t reduction,
                                   int64_t ignore_index, double label_smoothing, ctorch_tensor *out) noexcept {
    return guarded([&] {
        TORCH_CHECK_VALUE(reduction >= 0 && reduction <= 2, "unknown reduction code ", reduction);
        const auto &x = tensor(logits), &t = tensor(target);
        *out = wrap(meta::any(x, t) ? meta::cross_entropy(x, t, reduction, ignore_index, label_smoothing)
                                    : at::cross_entropy_loss(x, t, std::nullopt, reduction, ignore_index,
                                                             label_smoothing));
    });
}

} // extern "C"
