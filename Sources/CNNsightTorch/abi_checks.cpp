// Compile-time checks of the C ABI: every function declared in ctorch.h is `noexcept` when read
// as C++, so a C++ exception can never unwind into Swift (it would terminate the process there).
// A function added to the header without CTORCH_NOEXCEPT, or defined without `noexcept`, fails
// this file (the definition's mismatch fails its own translation unit).
#include "ctorch.h"

#include <type_traits>

namespace {
template <typename F> struct is_nothrow_function : std::false_type {};
template <typename R, typename... A> struct is_nothrow_function<R(A...) noexcept> : std::true_type {};
} // namespace

#define CTORCH_ASSERT_NOEXCEPT(name)                                                                \
    static_assert(is_nothrow_function<decltype(ctorch_##name)>::value, "ctorch_" #name " must be noexcept");
#define CTORCH_ASSERT_NOEXCEPT_SCALAR(name) CTORCH_ASSERT_NOEXCEPT(name##_scalar)
#define CTORCH_ASSERT_NOEXCEPT_INPLACE(name) CTORCH_ASSERT_NOEXCEPT(name##_) CTORCH_ASSERT_NOEXCEPT(name##_scalar_)

CTORCH_UNARY_OPS(CTORCH_ASSERT_NOEXCEPT)
CTORCH_BINARY_OPS(CTORCH_ASSERT_NOEXCEPT)
CTORCH_SCALAR_OPS(CTORCH_ASSERT_NOEXCEPT_SCALAR)
CTORCH_INPLACE_OPS(CTORCH_ASSERT_NOEXCEPT_INPLACE)
CTORCH_SIZES_OPS(CTORCH_ASSERT_NOEXCEPT)

/// Every function declared one by one in ctorch.h (the lists above cover the rest).
#define CTORCH_NAMED_FUNCTIONS(X)                                                                   \
    X(last_error) X(compiled_version) X(runtime_version) X(set_num_threads) X(get_num_threads)      \
    X(manual_seed) X(cuda_is_available) X(tensor_free) X(undefined) X(tensor_retain)                \
    X(generator_new) X(generator_free) X(is_defined) X(dim) X(sizes) X(strides) X(numel)            \
    X(storage_offset) X(dtype_of) X(device_of) X(is_contiguous) X(requires_grad) X(version)         \
    X(is_leaf) X(same_storage) X(data_ptr) X(element_size) X(from_bytes) X(from_blob)               \
    X(scalar_tensor) X(empty) X(zeros) X(ones) X(full) X(rand) X(randn) X(randint) X(arange)        \
    X(linspace) X(eye) X(zeros_like) X(ones_like) X(full_like) X(rand_like) X(randn_like)           \
    X(rsub_scalar) X(rdiv_scalar) X(rpow_scalar) X(clamp) X(clamp_) X(where) X(allclose) X(equal)   \
    X(zero_) X(fill_) X(copy_) X(masked_fill_) X(uniform_) X(normal_) X(to_dtype) X(to_device)      \
    X(item_double) X(item_int64) X(item_bool) X(copy_to_buffer) X(sum) X(mean) X(prod) X(amax)      \
    X(amin) X(var) X(std) X(logsumexp) X(norm) X(all) X(any) X(max_dim) X(min_dim) X(argmax)        \
    X(argmin) X(softmax) X(log_softmax) X(cumsum) X(transpose) X(flatten) X(squeeze) X(unsqueeze)   \
    X(narrow) X(select) X(cat) X(stack) X(split) X(split_sizes) X(chunk) X(gather) X(index_select)  \
    X(masked_fill) X(topk) X(sort) X(argsort) X(multinomial) X(tril) X(triu) X(index)               \
    X(index_put_) X(linear) X(linear_pack_weight) X(linear_unpack_weight) X(linear_packed)          \
    X(embedding) X(layer_norm) X(rms_norm) X(dropout) X(scaled_dot_product_attention)               \
    X(cross_entropy) X(set_requires_grad) X(grad) X(set_grad) X(retain_grad) X(grad_fn_name)        \
    X(backward) X(is_grad_enabled) X(set_grad_enabled) X(register_grad_hook) X(remove_grad_hook)
CTORCH_NAMED_FUNCTIONS(CTORCH_ASSERT_NOEXCEPT)
