/*
 * ctorch.h: the C ABI of swift-nnsight over libtorch.
 *
 * Pure C. Every fallible function returns a ctorch_status and writes results through
 * out-parameters; on failure the out-parameters are left untouched and
 * ctorch_last_error() describes what happened.
 *
 * Ownership: a ctorch_tensor is an owned reference to one at::Tensor (libtorch's tensors are
 * themselves reference-counted views of shared storage). Every function that writes a
 * ctorch_tensor through an out-parameter hands the caller a new reference (+1) that the caller
 * frees with ctorch_tensor_free. Tensors passed as arguments are borrowed for the duration of
 * the call. Strings returned by the library are borrowed and valid until the next call on the
 * same thread unless stated otherwise.
 *
 * The op lists below (CTORCH_*_OPS) are the declarative list of the shim: each entry becomes
 * one function of the shape its list describes, ctorch_<name>.
 *
 * Exceptions: no C++ exception leaves the shim. Every function is `noexcept` when the header is
 * read as C++, and its whole body (allocations included) runs inside one exception boundary that
 * turns a failure into a status (or, for the queries that cannot report one, a neutral value).
 *
 * Nullability: every pointer is non-null unless marked _Nullable (clang's assume_nonnull region
 * below), so Swift sees `OpaquePointer` where a handle is required and `OpaquePointer?` where it
 * may be absent. Out-parameters point to caller-owned storage (never NULL); the handle written
 * there is _Nullable because nothing is written on failure.
 */
#ifndef CTORCH_H
#define CTORCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define CTORCH_NOEXCEPT noexcept
extern "C" {
#else
#define CTORCH_NOEXCEPT
#endif

#if !defined(__clang__)
#define _Nonnull
#define _Nullable
#endif

#ifdef __clang__
#pragma clang assume_nonnull begin
#endif

/* ---- Status and errors --------------------------------------------------------------------- */

/** The outcome of a call. Each libtorch error kind has its own code. */
typedef int32_t ctorch_status;
enum {
    CTORCH_OK = 0,
    CTORCH_ERR_INDEX = 1,           /* c10::IndexError (Python IndexError) */
    CTORCH_ERR_VALUE = 2,           /* c10::ValueError */
    CTORCH_ERR_TYPE = 3,            /* c10::TypeError */
    CTORCH_ERR_NOT_IMPLEMENTED = 4, /* c10::NotImplementedError */
    CTORCH_ERR_OUT_OF_MEMORY = 5,   /* c10::OutOfMemoryError, std::bad_alloc */
    CTORCH_ERR_OTHER = 6,           /* any other c10::Error (shape mismatches among them) */
    CTORCH_ERR_CALLBACK = 7,        /* a callback into the caller (a gradient hook) failed */
    CTORCH_ERR_UNKNOWN = 8          /* a non-libtorch C++ exception */
};

/** The message of the last failed call on this thread, without libtorch's C++ backtrace.
 *  Borrowed; valid until the next failing call on this thread. Empty when none failed. */
const char *ctorch_last_error(void) CTORCH_NOEXCEPT;

/* ---- Library ------------------------------------------------------------------------------- */

/** The libtorch version the shim was compiled against, "MAJOR.MINOR.PATCH". Static string. */
const char *ctorch_compiled_version(void) CTORCH_NOEXCEPT;
/** The libtorch version found at run time (read from libtorch's own build configuration).
 *  Static string, computed once. Empty if it cannot be determined. */
const char *ctorch_runtime_version(void) CTORCH_NOEXCEPT;
ctorch_status ctorch_set_num_threads(int32_t n) CTORCH_NOEXCEPT;
int32_t ctorch_get_num_threads(void) CTORCH_NOEXCEPT;
ctorch_status ctorch_manual_seed(uint64_t seed) CTORCH_NOEXCEPT;
bool ctorch_cuda_is_available(void) CTORCH_NOEXCEPT;

/* ---- Handles, dtypes, devices -------------------------------------------------------------- */

/** An owned reference to an at::Tensor (opaque). */
typedef struct ctorch_tensor_s *ctorch_tensor;
/** An owned random-number generator (opaque). */
typedef struct ctorch_generator_s *ctorch_generator;

typedef enum {
    CTORCH_UINT8 = 0,
    CTORCH_INT8 = 1,
    CTORCH_INT16 = 2,
    CTORCH_INT32 = 3,
    CTORCH_INT64 = 4,
    CTORCH_FLOAT16 = 5,
    CTORCH_FLOAT32 = 6,
    CTORCH_FLOAT64 = 7,
    CTORCH_BOOL = 8,
    CTORCH_BFLOAT16 = 9,
    CTORCH_DTYPE_UNKNOWN = -1
} ctorch_dtype;

/* CTORCH_MPS: Apple GPUs (Metal), reachable only in macOS builds of libtorch; elsewhere every
 * call naming it fails with CTORCH_ERR_VALUE. */
typedef enum { CTORCH_CPU = 0, CTORCH_CUDA = 1, CTORCH_META = 2, CTORCH_DEVICE_OTHER = 3, CTORCH_MPS = 4 } ctorch_device_type;

typedef struct {
    ctorch_device_type type;
    int32_t index; /* -1: the current device of that type */
} ctorch_device;

/** Options for creating a tensor. */
typedef struct {
    ctorch_dtype dtype;
    ctorch_device device;
    bool requires_grad;
} ctorch_options;

/** A number handed to an op, kept integral or floating as written (libtorch's Scalar). */
typedef enum { CTORCH_SCALAR_INT = 0, CTORCH_SCALAR_FLOAT = 1, CTORCH_SCALAR_BOOL = 2 } ctorch_scalar_kind;
typedef struct {
    ctorch_scalar_kind kind;
    int64_t i;
    double f;
} ctorch_scalar;

/** Frees one reference. NULL is ignored. */
void ctorch_tensor_free(ctorch_tensor _Nullable t) CTORCH_NOEXCEPT;
/** A handle to no tensor (libtorch's undefined tensor); every op on it fails cleanly. Never fails
 *  and allocates nothing: every call returns the same static handle, which ctorch_tensor_free
 *  ignores. */
ctorch_tensor ctorch_undefined(void) CTORCH_NOEXCEPT;
/** A new reference to the same tensor (an alias, not a copy); fails only when out of memory. */
ctorch_status ctorch_tensor_retain(ctorch_tensor t, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;

/** A CPU generator seeded with `seed`; fails only when out of memory. */
ctorch_status ctorch_generator_new(uint64_t seed, ctorch_generator _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
/** NULL is ignored. */
void ctorch_generator_free(ctorch_generator _Nullable g) CTORCH_NOEXCEPT;

/* ---- Queries (never fail on a defined tensor; an undefined tensor reads as empty) ----------
 * Should libtorch throw all the same, the query returns what it returns for an undefined tensor
 * and ctorch_last_error() says why. */

bool ctorch_is_defined(ctorch_tensor t) CTORCH_NOEXCEPT;
int64_t ctorch_dim(ctorch_tensor t) CTORCH_NOEXCEPT;
/** Writes up to `capacity` sizes; returns dim(). */
int64_t ctorch_sizes(ctorch_tensor t, int64_t *_Nullable sizes, int64_t capacity) CTORCH_NOEXCEPT;
int64_t ctorch_strides(ctorch_tensor t, int64_t *_Nullable strides, int64_t capacity) CTORCH_NOEXCEPT;
int64_t ctorch_numel(ctorch_tensor t) CTORCH_NOEXCEPT;
int64_t ctorch_storage_offset(ctorch_tensor t) CTORCH_NOEXCEPT;
ctorch_dtype ctorch_dtype_of(ctorch_tensor t) CTORCH_NOEXCEPT;
ctorch_device ctorch_device_of(ctorch_tensor t) CTORCH_NOEXCEPT;
bool ctorch_is_contiguous(ctorch_tensor t) CTORCH_NOEXCEPT;
bool ctorch_requires_grad(ctorch_tensor t) CTORCH_NOEXCEPT;
/** The version counter, which every in-place change of the tensor or a view of it bumps (0 for
 * inference tensors, which keep none). */
int64_t ctorch_version(ctorch_tensor t) CTORCH_NOEXCEPT;
bool ctorch_is_leaf(ctorch_tensor t) CTORCH_NOEXCEPT;
/** True when the two handles view the same storage. */
bool ctorch_same_storage(ctorch_tensor a, ctorch_tensor b) CTORCH_NOEXCEPT;
/** Address of the first element (CPU tensors; NULL otherwise). Borrowed: valid while the tensor lives. */
const void *_Nullable ctorch_data_ptr(ctorch_tensor t) CTORCH_NOEXCEPT;
size_t ctorch_element_size(ctorch_dtype dtype) CTORCH_NOEXCEPT;

/* ---- Creation ------------------------------------------------------------------------------ */

/** Copies `nbytes` bytes (row-major, contiguous) into a new CPU tensor of `dtype` and `sizes`,
 *  then moves it to `options.device`. */
ctorch_status ctorch_from_bytes(const void *_Nullable data, size_t nbytes, const int64_t *_Nullable sizes, size_t ndim,
                                ctorch_options options, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
/** A CPU tensor that views `data` without copying. `release(context)` is called once when libtorch
 *  drops its last reference to the memory (also when this call fails). */
ctorch_status ctorch_from_blob(void *_Nullable data, const int64_t *_Nullable sizes, size_t ndim, ctorch_dtype dtype,
                               void (*_Nullable release)(void *_Nullable context), void *_Nullable context,
                               ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
/** A 0-dimensional tensor marked as a "wrapped number", so that it promotes like a Python scalar. */
ctorch_status ctorch_scalar_tensor(ctorch_scalar value, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_empty(const int64_t *_Nullable sizes, size_t ndim, ctorch_options options,
                           ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_zeros(const int64_t *_Nullable sizes, size_t ndim, ctorch_options options,
                           ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_ones(const int64_t *_Nullable sizes, size_t ndim, ctorch_options options,
                          ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_full(const int64_t *_Nullable sizes, size_t ndim, ctorch_scalar value, ctorch_options options,
                          ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
/** `generator` may be NULL (the default generator). */
ctorch_status ctorch_rand(const int64_t *_Nullable sizes, size_t ndim, ctorch_generator _Nullable generator,
                          ctorch_options options, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_randn(const int64_t *_Nullable sizes, size_t ndim, ctorch_generator _Nullable generator,
                           ctorch_options options, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_randint(int64_t low, int64_t high, const int64_t *_Nullable sizes, size_t ndim,
                             ctorch_generator _Nullable generator, ctorch_options options,
                             ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_arange(ctorch_scalar start, ctorch_scalar end, ctorch_scalar step, ctorch_options options,
                            ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_linspace(double start, double end, int64_t steps, ctorch_options options,
                              ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_eye(int64_t n, int64_t m, ctorch_options options,
                         ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_zeros_like(ctorch_tensor t, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_ones_like(ctorch_tensor t, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_full_like(ctorch_tensor t, ctorch_scalar value,
                               ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_rand_like(ctorch_tensor t, ctorch_generator _Nullable generator,
                               ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_randn_like(ctorch_tensor t, ctorch_generator _Nullable generator,
                                ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;

/* ---- Elementwise and matrix ops (declarative lists) ---------------------------------------- */

/** ctorch_<name>(a, out): one tensor in, one out. */
#define CTORCH_UNARY_OPS(X)                                                                         \
    X(neg) X(exp) X(log) X(log2) X(sqrt) X(rsqrt) X(tanh) X(sin) X(cos) X(abs) X(sigmoid) X(relu)   \
    X(silu) X(erf) X(floor) X(ceil) X(round) X(sign) X(reciprocal) X(square) X(isnan) X(isinf)       \
    X(logical_not) X(bitwise_not) X(clone) X(detach) X(contiguous) X(gelu) X(gelu_tanh) X(trunc)

/** ctorch_<name>(a, b, out): two tensors in (broadcasting), one out. */
#define CTORCH_BINARY_OPS(X)                                                                        \
    X(add) X(sub) X(mul) X(div) X(pow) X(remainder) X(floor_divide) X(matmul) X(maximum) X(minimum)  \
    X(eq) X(ne) X(lt) X(le) X(gt) X(ge) X(logical_and) X(logical_or) X(logical_xor) X(atan2)         \
    X(bitwise_and) X(bitwise_or)

/** ctorch_<name>_scalar(a, s, out): a tensor and a number. */
#define CTORCH_SCALAR_OPS(X)                                                                        \
    X(add) X(sub) X(mul) X(div) X(pow) X(remainder) X(floor_divide) X(eq) X(ne) X(lt) X(le) X(gt)    \
    X(ge)

/** ctorch_<name>_(a, b): in place on a, with a tensor b. ctorch_<name>_scalar_(a, s): with a number. */
#define CTORCH_INPLACE_OPS(X) X(add) X(sub) X(mul) X(div) X(pow)

#define CTORCH_DECLARE_UNARY(name)                                                                  \
    ctorch_status ctorch_##name(ctorch_tensor a, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
#define CTORCH_DECLARE_BINARY(name)                                                                 \
    ctorch_status ctorch_##name(ctorch_tensor a, ctorch_tensor b,                                   \
                                ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
#define CTORCH_DECLARE_SCALAR(name)                                                                 \
    ctorch_status ctorch_##name##_scalar(ctorch_tensor a, ctorch_scalar s,                          \
                                         ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
#define CTORCH_DECLARE_INPLACE(name)                                                                \
    ctorch_status ctorch_##name##_(ctorch_tensor a, ctorch_tensor b) CTORCH_NOEXCEPT;               \
    ctorch_status ctorch_##name##_scalar_(ctorch_tensor a, ctorch_scalar s) CTORCH_NOEXCEPT;
CTORCH_UNARY_OPS(CTORCH_DECLARE_UNARY)
CTORCH_BINARY_OPS(CTORCH_DECLARE_BINARY)
CTORCH_SCALAR_OPS(CTORCH_DECLARE_SCALAR)
CTORCH_INPLACE_OPS(CTORCH_DECLARE_INPLACE)

/** `a` - `s`, with the number on the left (Python's `s - a`), and likewise for division and power. */
ctorch_status ctorch_rsub_scalar(ctorch_tensor a, ctorch_scalar s,
                                 ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_rdiv_scalar(ctorch_tensor a, ctorch_scalar s,
                                 ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_rpow_scalar(ctorch_tensor a, ctorch_scalar s,
                                 ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
/** min/max may each be absent (has_min/has_max false). */
ctorch_status ctorch_clamp(ctorch_tensor a, bool has_min, ctorch_scalar min, bool has_max, ctorch_scalar max,
                           ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_clamp_(ctorch_tensor a, bool has_min, ctorch_scalar min, bool has_max,
                            ctorch_scalar max) CTORCH_NOEXCEPT;
ctorch_status ctorch_where(ctorch_tensor condition, ctorch_tensor a, ctorch_tensor b,
                           ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_allclose(ctorch_tensor a, ctorch_tensor b, double rtol, double atol, bool *out) CTORCH_NOEXCEPT;
ctorch_status ctorch_equal(ctorch_tensor a, ctorch_tensor b, bool *out) CTORCH_NOEXCEPT;

/* ---- In place ------------------------------------------------------------------------------ */

ctorch_status ctorch_zero_(ctorch_tensor a) CTORCH_NOEXCEPT;
ctorch_status ctorch_fill_(ctorch_tensor a, ctorch_scalar value) CTORCH_NOEXCEPT;
ctorch_status ctorch_copy_(ctorch_tensor a, ctorch_tensor source) CTORCH_NOEXCEPT;
ctorch_status ctorch_masked_fill_(ctorch_tensor a, ctorch_tensor mask, ctorch_scalar value) CTORCH_NOEXCEPT;
ctorch_status ctorch_uniform_(ctorch_tensor a, double from, double to,
                              ctorch_generator _Nullable generator) CTORCH_NOEXCEPT;
ctorch_status ctorch_normal_(ctorch_tensor a, double mean, double std,
                             ctorch_generator _Nullable generator) CTORCH_NOEXCEPT;

/* ---- Conversion ---------------------------------------------------------------------------- */

ctorch_status ctorch_to_dtype(ctorch_tensor a, ctorch_dtype dtype,
                              ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_to_device(ctorch_tensor a, ctorch_device device,
                               ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
/** The value of a one-element tensor. */
ctorch_status ctorch_item_double(ctorch_tensor a, double *out) CTORCH_NOEXCEPT;
ctorch_status ctorch_item_int64(ctorch_tensor a, int64_t *out) CTORCH_NOEXCEPT;
ctorch_status ctorch_item_bool(ctorch_tensor a, bool *out) CTORCH_NOEXCEPT;
/** Copies every element, in row-major order, converted to `dtype`, into `buffer` (capacity in bytes). */
ctorch_status ctorch_copy_to_buffer(ctorch_tensor a, ctorch_dtype dtype, void *_Nullable buffer,
                                    size_t capacity) CTORCH_NOEXCEPT;

/* ---- Reductions ---------------------------------------------------------------------------- */
/* `dims` == NULL means every dimension. `dtype` CTORCH_DTYPE_UNKNOWN keeps libtorch's default. */

ctorch_status ctorch_sum(ctorch_tensor a, const int64_t *_Nullable dims, size_t ndims, bool keepdim, ctorch_dtype dtype,
                         ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_mean(ctorch_tensor a, const int64_t *_Nullable dims, size_t ndims, bool keepdim,
                          ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_prod(ctorch_tensor a, bool has_dim, int64_t dim, bool keepdim,
                          ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_amax(ctorch_tensor a, const int64_t *_Nullable dims, size_t ndims, bool keepdim,
                          ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_amin(ctorch_tensor a, const int64_t *_Nullable dims, size_t ndims, bool keepdim,
                          ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_var(ctorch_tensor a, const int64_t *_Nullable dims, size_t ndims, double correction, bool keepdim,
                         ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_std(ctorch_tensor a, const int64_t *_Nullable dims, size_t ndims, double correction, bool keepdim,
                         ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_logsumexp(ctorch_tensor a, const int64_t *_Nullable dims, size_t ndims, bool keepdim,
                               ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_norm(ctorch_tensor a, double p, const int64_t *_Nullable dims, size_t ndims, bool keepdim,
                          ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_all(ctorch_tensor a, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_any(ctorch_tensor a, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
/** Values and indices along `dim`. */
ctorch_status ctorch_max_dim(ctorch_tensor a, int64_t dim, bool keepdim, ctorch_tensor _Nullable *_Nonnull values,
                             ctorch_tensor _Nullable *_Nonnull indices) CTORCH_NOEXCEPT;
ctorch_status ctorch_min_dim(ctorch_tensor a, int64_t dim, bool keepdim, ctorch_tensor _Nullable *_Nonnull values,
                             ctorch_tensor _Nullable *_Nonnull indices) CTORCH_NOEXCEPT;
/** has_dim false: over the flattened tensor. */
ctorch_status ctorch_argmax(ctorch_tensor a, bool has_dim, int64_t dim, bool keepdim,
                            ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_argmin(ctorch_tensor a, bool has_dim, int64_t dim, bool keepdim,
                            ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_softmax(ctorch_tensor a, int64_t dim, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_log_softmax(ctorch_tensor a, int64_t dim, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_cumsum(ctorch_tensor a, int64_t dim, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;

/* ---- Shape --------------------------------------------------------------------------------- */

/** ctorch_<name>(a, sizes, n, out): ops that take a list of sizes or dimensions. */
#define CTORCH_SIZES_OPS(X) X(reshape) X(view) X(expand) X(repeat) X(permute)
#define CTORCH_DECLARE_SIZES(name)                                                                  \
    ctorch_status ctorch_##name(ctorch_tensor a, const int64_t *_Nullable sizes, size_t n,            \
                                ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
CTORCH_SIZES_OPS(CTORCH_DECLARE_SIZES)

ctorch_status ctorch_transpose(ctorch_tensor a, int64_t dim0, int64_t dim1,
                               ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_flatten(ctorch_tensor a, int64_t start_dim, int64_t end_dim,
                             ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
/** has_dim false: every dimension of size 1. */
ctorch_status ctorch_squeeze(ctorch_tensor a, bool has_dim, int64_t dim,
                             ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_unsqueeze(ctorch_tensor a, int64_t dim, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_narrow(ctorch_tensor a, int64_t dim, int64_t start, int64_t length,
                            ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_select(ctorch_tensor a, int64_t dim, int64_t index,
                            ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_cat(const ctorch_tensor _Nonnull *_Nullable tensors, size_t n, int64_t dim,
                         ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_stack(const ctorch_tensor _Nonnull *_Nullable tensors, size_t n, int64_t dim,
                           ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
/** Writes up to `capacity` pieces into `pieces` and their count into `count`. If the count exceeds
 *  `capacity`, nothing is written but `count` and the call fails with CTORCH_ERR_VALUE. */
ctorch_status ctorch_split(ctorch_tensor a, int64_t split_size, int64_t dim, ctorch_tensor _Nullable *_Nonnull pieces,
                           size_t capacity, size_t *count) CTORCH_NOEXCEPT;
ctorch_status ctorch_split_sizes(ctorch_tensor a, const int64_t *_Nullable sizes, size_t n, int64_t dim,
                                 ctorch_tensor _Nullable *_Nonnull pieces, size_t capacity,
                                 size_t *count) CTORCH_NOEXCEPT;
ctorch_status ctorch_chunk(ctorch_tensor a, int64_t chunks, int64_t dim, ctorch_tensor _Nullable *_Nonnull pieces,
                           size_t capacity, size_t *count) CTORCH_NOEXCEPT;
ctorch_status ctorch_gather(ctorch_tensor a, int64_t dim, ctorch_tensor index,
                            ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_index_select(ctorch_tensor a, int64_t dim, ctorch_tensor index,
                                  ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_masked_fill(ctorch_tensor a, ctorch_tensor mask, ctorch_tensor value,
                                 ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_topk(ctorch_tensor a, int64_t k, int64_t dim, bool largest, bool sorted,
                          ctorch_tensor _Nullable *_Nonnull values,
                          ctorch_tensor _Nullable *_Nonnull indices) CTORCH_NOEXCEPT;
ctorch_status ctorch_sort(ctorch_tensor a, int64_t dim, bool descending, ctorch_tensor _Nullable *_Nonnull values,
                          ctorch_tensor _Nullable *_Nonnull indices) CTORCH_NOEXCEPT;
ctorch_status ctorch_argsort(ctorch_tensor a, int64_t dim, bool descending,
                             ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_multinomial(ctorch_tensor probabilities, int64_t samples, bool replacement,
                                 ctorch_generator _Nullable generator,
                                 ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_tril(ctorch_tensor a, int64_t diagonal, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_triu(ctorch_tensor a, int64_t diagonal, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;

/* ---- Indexing (Python's meaning, by libtorch's own indexing) ------------------------------- */

typedef enum {
    CTORCH_INDEX_INT = 0,      /* x[i] */
    CTORCH_INDEX_SLICE = 1,    /* x[start:stop:step]; absent bounds via has_start/has_stop */
    CTORCH_INDEX_ELLIPSIS = 2, /* x[...] */
    CTORCH_INDEX_NONE = 3,     /* x[None] */
    CTORCH_INDEX_TENSOR = 4,   /* x[integer or boolean tensor] */
    CTORCH_INDEX_BOOL = 5      /* x[True] */
} ctorch_index_kind;

typedef struct {
    ctorch_index_kind kind;
    int64_t value; /* INT: the index; SLICE: start; BOOL: 0 or 1 */
    int64_t stop;
    int64_t step;
    bool has_start;
    bool has_stop;
    ctorch_tensor _Nullable tensor; /* TENSOR: borrowed */
} ctorch_tensor_index;

/** a[indices]: a view where the indices are basic, a copy where they are advanced. */
ctorch_status ctorch_index(ctorch_tensor a, const ctorch_tensor_index *_Nullable indices, size_t n,
                           ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
/** a[indices] = value, in place in a's storage. A value of another dtype is converted to a's dtype. */
ctorch_status ctorch_index_put_(ctorch_tensor a, const ctorch_tensor_index *_Nullable indices, size_t n,
                                ctorch_tensor value) CTORCH_NOEXCEPT;

/* ---- Neural-network functions -------------------------------------------------------------- */

/** `bias` may be NULL. y = x W^T + b. */
ctorch_status ctorch_linear(ctorch_tensor x, ctorch_tensor _Nullable weight, ctorch_tensor _Nullable bias,
                            ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
/** The large float32 or bfloat16 CPU linear weight `[out, in]` in oneDNN's blocked layout, for
 * ctorch_linear_packed; *out = NULL (with CTORCH_OK) where that layout is unavailable or not worth
 * it (other dtypes and devices, small weights). */
ctorch_status ctorch_linear_pack_weight(ctorch_tensor weight, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
/** The plain `[out, in]` weight back from its packed form (a new tensor, equal to the original). */
ctorch_status ctorch_linear_unpack_weight(ctorch_tensor packed, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
/** ctorch_linear with the weight in its packed form, and optionally its plain form too: one float32
 * row against a plain weight stored transposed runs MKL's GEMV on it (faster there), others the
 * oneDNN kernel on the packed form wherever it applies, else (autograd recording, another input
 * dtype) the plain product, with the weight unpacked for the call when `plain` is NULL. */
ctorch_status ctorch_linear_packed(ctorch_tensor x, ctorch_tensor packed, ctorch_tensor _Nullable plain,
                                   ctorch_tensor _Nullable bias, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_embedding(ctorch_tensor weight, ctorch_tensor indices,
                               ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
/** `weight`, `bias` may be NULL. Normalises over the last `n` dims given in `shape`. */
ctorch_status ctorch_layer_norm(ctorch_tensor x, const int64_t *_Nullable shape, size_t n,
                                ctorch_tensor _Nullable weight, ctorch_tensor _Nullable bias, double eps,
                                ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_rms_norm(ctorch_tensor x, const int64_t *_Nullable shape, size_t n, ctorch_tensor _Nullable weight,
                              bool has_eps, double eps, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
ctorch_status ctorch_dropout(ctorch_tensor x, double p, bool train,
                             ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
/** `mask` may be NULL (boolean: true = attend; floating: added). `has_scale` false: 1/sqrt(E). */
ctorch_status ctorch_scaled_dot_product_attention(ctorch_tensor q, ctorch_tensor k, ctorch_tensor v,
                                                  ctorch_tensor _Nullable mask, double dropout_p, bool is_causal,
                                                  bool has_scale, double scale, bool enable_gqa,
                                                  ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
/** reduction: 0 none, 1 mean, 2 sum. */
ctorch_status ctorch_cross_entropy(ctorch_tensor logits, ctorch_tensor target, int32_t reduction, int64_t ignore_index,
                                   double label_smoothing, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;

/* ---- Autograd ------------------------------------------------------------------------------ */

ctorch_status ctorch_set_requires_grad(ctorch_tensor a, bool requires_grad) CTORCH_NOEXCEPT;
/** The accumulated gradient; *out is NULL when there is none. */
ctorch_status ctorch_grad(ctorch_tensor a, ctorch_tensor _Nullable *_Nonnull out) CTORCH_NOEXCEPT;
/** Sets (or with NULL clears) the .grad of a. */
ctorch_status ctorch_set_grad(ctorch_tensor a, ctorch_tensor _Nullable grad) CTORCH_NOEXCEPT;
ctorch_status ctorch_retain_grad(ctorch_tensor a) CTORCH_NOEXCEPT;
/** The name of the autograd node that produced a (e.g. "AddBackward0"); empty for leaves.
 *  Borrowed; valid until the next call on this thread. */
const char *ctorch_grad_fn_name(ctorch_tensor a) CTORCH_NOEXCEPT;
/** `gradient` may be NULL for a one-element tensor. */
ctorch_status ctorch_backward(ctorch_tensor a, ctorch_tensor _Nullable gradient, bool retain_graph,
                              bool create_graph) CTORCH_NOEXCEPT;
bool ctorch_is_grad_enabled(void) CTORCH_NOEXCEPT;
/** Sets grad mode for this thread; returns the previous mode. */
bool ctorch_set_grad_enabled(bool enabled) CTORCH_NOEXCEPT;

/** A gradient hook. Called with a borrowed gradient; writes a new reference to a replacement into
 *  *replacement, or leaves it NULL to keep the gradient. A non-zero return fails the backward
 *  pass (with CTORCH_ERR_CALLBACK). */
typedef int32_t (*ctorch_grad_hook_fn)(void *_Nullable context, ctorch_tensor grad,
                                       ctorch_tensor _Nullable *_Nonnull replacement);
/** Registers `hook` on `a`. `release(context)` is called once when the hook is removed or the
 *  tensor's autograd metadata is destroyed (also when this call fails). Writes the hook's handle
 *  for ctorch_remove_grad_hook. */
ctorch_status ctorch_register_grad_hook(ctorch_tensor a, ctorch_grad_hook_fn hook, void *_Nullable context,
                                        void (*_Nullable release)(void *_Nullable context),
                                        uint64_t *handle) CTORCH_NOEXCEPT;
ctorch_status ctorch_remove_grad_hook(ctorch_tensor a, uint64_t handle) CTORCH_NOEXCEPT;

#ifdef __clang__
#pragma clang assume_nonnull end
#endif

#ifdef __cplusplus
}
#endif

#endif /* CTORCH_H */
