// The exception boundary and handle helpers shared by the shim's translation units.
// Every exported function is `noexcept` and runs its whole body (allocations included) through
// `guarded` (functions that return a status) or `queried` (functions that return a value), so no
// C++ exception reaches Swift. abi_checks.cpp verifies the `noexcept` at compile time.
#pragma once

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <exception>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "ctorch.h"

struct ctorch_tensor_s {
    at::Tensor tensor;
};

struct ctorch_generator_s {
    at::Generator generator;
};

namespace ctorch {

/// The last error message of this thread (see ctorch_last_error).
std::string &last_error() noexcept;

/// Records `message` as this thread's last error. Copying the message may itself run out of
/// memory; the message is then left empty rather than letting the exception out.
inline void record(const char *message) noexcept {
    try {
        last_error() = message;
    } catch (...) {
        last_error().clear();
    }
}

/// Thrown by a gradient hook whose Swift callback failed; maps to CTORCH_ERR_CALLBACK.
struct CallbackFailure : std::exception {
    const char *what() const noexcept override { return "a gradient hook failed"; }
};

/// Runs `body`, mapping every C++ exception to a status and a message without backtrace.
template <typename Body> ctorch_status guarded(Body &&body) noexcept {
    try {
        std::forward<Body>(body)();
        return CTORCH_OK;
    } catch (const c10::IndexError &e) {
        record(e.what_without_backtrace());
        return CTORCH_ERR_INDEX;
    } catch (const c10::ValueError &e) {
        record(e.what_without_backtrace());
        return CTORCH_ERR_VALUE;
    } catch (const c10::TypeError &e) {
        record(e.what_without_backtrace());
        return CTORCH_ERR_TYPE;
    } catch (const c10::NotImplementedError &e) {
        record(e.what_without_backtrace());
        return CTORCH_ERR_NOT_IMPLEMENTED;
    } catch (const c10::OutOfMemoryError &e) {
        record(e.what_without_backtrace());
        return CTORCH_ERR_OUT_OF_MEMORY;
    } catch (const c10::Error &e) {
        record(e.what_without_backtrace());
        return CTORCH_ERR_OTHER;
    } catch (const CallbackFailure &e) {
        record(e.what());
        return CTORCH_ERR_CALLBACK;
    } catch (const std::bad_alloc &) {
        record("out of memory");
        return CTORCH_ERR_OUT_OF_MEMORY;
    } catch (const std::exception &e) {
        record(e.what());
        return CTORCH_ERR_UNKNOWN;
    } catch (...) {
        record("unknown C++ exception");
        return CTORCH_ERR_UNKNOWN;
    }
}

/// Runs `body` for a function that returns a value instead of a status (the queries): its result,
/// or `fallback` (what the query answers for an undefined tensor) when it throws, with the
/// message recorded as for `guarded`.
template <typename T, typename Body> T queried(T fallback, Body &&body) noexcept {
    T result = fallback;
    if (guarded([&] { result = std::forward<Body>(body)(); }) != CTORCH_OK) return fallback;
    return result;
}

/// The tensor behind a borrowed handle; a null handle reads as an undefined tensor.
inline const at::Tensor &tensor(ctorch_tensor handle) {
    static const at::Tensor undefined;
    return handle ? handle->tensor : undefined;
}

/// An optional tensor argument: absent when the handle is null.
inline std::optional<at::Tensor> optional_tensor(ctorch_tensor handle) {
    if (!handle) return std::nullopt;
    return handle->tensor;
}

/// A new owned handle (+1) for `value`. Allocates: call it inside `guarded` only.
inline ctorch_tensor wrap(at::Tensor value) { return new ctorch_tensor_s{std::move(value)}; }

/// Writes new handles for `first` and `second`: both, or (when an allocation fails) neither.
inline void wrap_pair(at::Tensor first, at::Tensor second, ctorch_tensor *a, ctorch_tensor *b) {
    std::unique_ptr<ctorch_tensor_s> x(new ctorch_tensor_s{std::move(first)});
    std::unique_ptr<ctorch_tensor_s> y(new ctorch_tensor_s{std::move(second)});
    *a = x.release();
    *b = y.release();
}

/// The one static handle of ctorch_undefined, which ctorch_tensor_free never deletes.
ctorch_tensor undefined_handle() noexcept;

inline std::optional<at::Generator> generator(ctorch_generator handle) {
    if (!handle) return std::nullopt;
    return handle->generator;
}

at::ScalarType scalar_type(ctorch_dtype dtype);
ctorch_dtype dtype(at::ScalarType type);
at::Device device(ctorch_device device);
at::TensorOptions options(ctorch_options options);

inline at::Scalar scalar(ctorch_scalar s) {
    switch (s.kind) {
    case CTORCH_SCALAR_INT: return at::Scalar(s.i);
    case CTORCH_SCALAR_BOOL: return at::Scalar(s.i != 0);
    default: return at::Scalar(s.f);
    }
}

inline at::IntArrayRef ints(const int64_t *values, size_t n) { return at::IntArrayRef(values, n); }

inline at::OptionalIntArrayRef optional_dims(const int64_t *dims, size_t n) {
    if (!dims) return std::nullopt;
    return at::OptionalIntArrayRef(std::in_place, dims, n);
}

} // namespace ctorch
