// Errors, library settings, handles, queries, creation and conversion.
#include "boundary.hpp"
#include "meta.hpp"

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/WrapDimUtils.h>
#include <torch/headeronly/version.h>

#include <cstring>
#include <regex>

using namespace ctorch;

namespace ctorch {

std::string &last_error() noexcept {
    thread_local std::string message;
    return message;
}

namespace {
ctorch_tensor_s undefined_tensor;
}

ctorch_tensor undefined_handle() noexcept { return &undefined_tensor; }

at::ScalarType scalar_type(ctorch_dtype dtype) {
    switch (dtype) {
    case CTORCH_UINT8: return at::kByte;
    case CTORCH_INT8: return at::kChar;
    case CTORCH_INT16: return at::kShort;
    case CTORCH_INT32: return at::kInt;
    case CTORCH_INT64: return at::kLong;
    case CTORCH_FLOAT16: return at::kHalf;
    case CTORCH_FLOAT32: return at::kFloat;
    case CTORCH_FLOAT64: return at::kDouble;
    case CTORCH_BOOL: return at::kBool;
    case CTORCH_BFLOAT16: return at::kBFloat16;
    default: TORCH_CHECK_VALUE(false, "unknown dtype code ", static_cast<int>(dtype));
    }
}

ctorch_dtype dtype(at::ScalarType type) {
    switch (type) {
    case at::kByte: return CTORCH_UINT8;
    case at::kChar: return CTORCH_INT8;
    case at::kShort: return CTORCH_INT16;
    case at::kInt: return CTORCH_INT32;
    case at::kLong: return CTORCH_INT64;
    case at::kHalf: return CTORCH_FLOAT16;
    case at::kFloat: return CTORCH_FLOAT32;
    case at::kDouble: return CTORCH_FLOAT64;
    case at::kBool: return CTORCH_BOOL;
    case at::kBFloat16: return CTORCH_BFLOAT16;
    default: return CTORCH_DTYPE_UNKNOWN;
    }
}

at::Device device(ctorch_device d) {
    auto index = static_cast<c10::DeviceIndex>(d.index);
    switch (d.type) {
    case CTORCH_CPU: return at::Device(at::kCPU);
    case CTORCH_CUDA: return at::Device(at::kCUDA, index);
    case CTORCH_META: return at::Device(at::kMeta);
    case CTORCH_MPS:
#if defined(__APPLE__)
        return at::Device(at::kMPS, index < 0 ? 0 : index);
#else
        TORCH_CHECK_VALUE(false, "device mps (Apple GPUs) exists only in macOS builds; this build is not for macOS");
#endif
    default: TORCH_CHECK_VALUE(false, "unsupported device type code ", static_cast<int>(d.type));
    }
}

at::TensorOptions options(ctorch_options o) {
    return at::TensorOptions().dtype(scalar_type(o.dtype)).device(device(o.device)).requires_grad(o.requires_grad);
}

} // namespace ctorch

extern "C" {

const char *ctorch_last_error(void) noexcept { return last_error().c_str(); }

const char *ctorch_compiled_version(void) noexcept {
#define CTORCH_STR2(x) #x
#define CTORCH_STR(x) CTORCH_STR2(x)
    return CTORCH_STR(TORCH_VERSION_MAJOR) "." CTORCH_STR(TORCH_VERSION_MINOR) "." CTORCH_STR(TORCH_VERSION_PATCH);
}

const char *ctorch_runtime_version(void) noexcept {
    // libtorch records its version in its build configuration ("TORCH_VERSION=2.15.0, ...").
    // A process-lifetime string, never freed, so no destructor runs at exit under a reader.
    static const std::string *version = [] {
        std::string *result = nullptr;
        guarded([&] {
            std::string config = at::show_config(), found;
            std::smatch match;
            if (std::regex_search(config, match, std::regex("TORCH_VERSION=([0-9]+\\.[0-9]+\\.[0-9]+)")))
                found = match[1].str();
            result = new std::string(std::move(found));
        });
        return result;
    }();
    return version ? version->c_str() : "";
}

ctorch_status ctorch_set_num_threads(int32_t n) noexcept {
    return guarded([&] {
        TORCH_CHECK_VALUE(n > 0, "thread count must be positive, got ", n);
        at::set_num_threads(n);
    });
}

int32_t ctorch_get_num_threads(void) noexcept {
    return queried(int32_t(0), [] { return int32_t(at::get_num_threads()); });
}

ctorch_status ctorch_manual_seed(uint64_t seed) noexcept {
    return guarded([&] {
        auto gen = at::detail::getDefaultCPUGenerator();
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_current_seed(seed);
    });
}

bool ctorch_cuda_is_available(void) noexcept { return queried(false, [] { return at::hasCUDA(); }); }

void ctorch_tensor_free(ctorch_tensor t) noexcept {
    if (t != undefined_handle()) delete t;
}

ctorch_tensor ctorch_undefined(void) noexcept { return undefined_handle(); }

ctorch_status ctorch_tensor_retain(ctorch_tensor t, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = t == undefined_handle() ? t : wrap(tensor(t)); });
}

ctorch_status ctorch_generator_new(uint64_t seed, ctorch_generator *out) noexcept {
    return guarded([&] { *out = new ctorch_generator_s{at::detail::createCPUGenerator(seed)}; });
}

void ctorch_generator_free(ctorch_generator g) noexcept { delete g; }

// ---- Queries ----

bool ctorch_is_defined(ctorch_tensor t) noexcept { return queried(false, [&] { return tensor(t).defined(); }); }
int64_t ctorch_dim(ctorch_tensor t) noexcept {
    return queried(int64_t(0), [&] { return tensor(t).defined() ? int64_t(tensor(t).dim()) : int64_t(0); });
}

int64_t ctorch_sizes(ctorch_tensor t, int64_t *sizes, int64_t capacity) noexcept {
    return queried(int64_t(0), [&] {
        const auto &x = tensor(t);
        if (!x.defined()) return int64_t(0);
        auto s = x.sizes();
        for (int64_t i = 0; i < capacity && i < static_cast<int64_t>(s.size()); ++i) sizes[i] = s[i];
        return int64_t(x.dim());
    });
}

int64_t ctorch_strides(ctorch_tensor t, int64_t *strides, int64_t capacity) noexcept {
    return queried(int64_t(0), [&] {
        const auto &x = tensor(t);
        if (!x.defined()) return int64_t(0);
        auto s = x.strides();
        for (int64_t i = 0; i < capacity && i < static_cast<int64_t>(s.size()); ++i) strides[i] = s[i];
        return int64_t(x.dim());
    });
}

int64_t ctorch_numel(ctorch_tensor t) noexcept {
    return queried(int64_t(0), [&] { return tensor(t).defined() ? int64_t(tensor(t).numel()) : int64_t(0); });
}
int64_t ctorch_storage_offset(ctorch_tensor t) noexcept {
    return queried(int64_t(0), [&] { return tensor(t).defined() ? int64_t(tensor(t).storage_offset()) : int64_t(0); });
}
ctorch_dtype ctorch_dtype_of(ctorch_tensor t) noexcept {
    return queried(CTORCH_DTYPE_UNKNOWN, [&] {
        return tensor(t).defined() ? ctorch::dtype(tensor(t).scalar_type()) : CTORCH_DTYPE_UNKNOWN;
    });
}

ctorch_device ctorch_device_of(ctorch_tensor t) noexcept {
    return queried(ctorch_device{CTORCH_CPU, -1}, [&]() -> ctorch_device {
        const auto &x = tensor(t);
        if (!x.defined()) return {CTORCH_CPU, -1};
        auto d = x.device();
        switch (d.type()) {
        case at::kCPU: return {CTORCH_CPU, -1};
        case at::kCUDA: return {CTORCH_CUDA, d.index()};
        case at::kMeta: return {CTORCH_META, -1};
        case at::kMPS: return {CTORCH_MPS, -1};
        default: return {CTORCH_DEVICE_OTHER, d.index()};
        }
    });
}

bool ctorch_is_contiguous(ctorch_tensor t) noexcept {
    return queried(false, [&] { return tensor(t).defined() && tensor(t).is_contiguous(); });
}
bool ctorch_requires_grad(ctorch_tensor t) noexcept {
    return queried(false, [&] { return tensor(t).defined() && tensor(t).requires_grad(); });
}
int64_t ctorch_version(ctorch_tensor t) noexcept {
    return queried(int64_t(0), [&] {
        const auto &a = tensor(t);
        return a.defined() && !a.is_inference() ? static_cast<int64_t>(a._version()) : int64_t(0);
    });
}
bool ctorch_is_leaf(ctorch_tensor t) noexcept {
    return queried(true, [&] { return !tensor(t).defined() || tensor(t).is_leaf(); });
}

bool ctorch_same_storage(ctorch_tensor a, ctorch_tensor b) noexcept {
    return queried(false, [&] {
        const auto &x = tensor(a), &y = tensor(b);
        return x.defined() && y.defined() && x.has_storage() && y.has_storage() &&
            x.storage().is_alias_of(y.storage());
    });
}

const void *ctorch_data_ptr(ctorch_tensor t) noexcept {
    return queried(static_cast<const void *>(nullptr), [&]() -> const void * {
        const auto &x = tensor(t);
        if (!x.defined() || !x.has_storage() || x.device().type() != at::kCPU) return nullptr;
        return x.data_ptr();
    });
}

size_t ctorch_element_size(ctorch_dtype d) noexcept {
    return queried(size_t(0), [&] { return size_t(c10::elementSize(scalar_type(d))); });
}

// ---- Creation ----

ctorch_status ctorch_from_bytes(const void *data, size_t nbytes, const int64_t *sizes, size_t ndim,
                                ctorch_options o, ctorch_tensor *out) noexcept {
    return guarded([&] {
        auto cpu = at::empty(ints(sizes, ndim), at::TensorOptions().dtype(scalar_type(o.dtype)));
        TORCH_CHECK_VALUE(cpu.nbytes() == nbytes, "from_bytes: ", nbytes, " bytes given, but shape ", cpu.sizes(),
                          " of ", cpu.scalar_type(), " needs ", cpu.nbytes());
        if (nbytes) std::memcpy(cpu.data_ptr(), data, nbytes);
        auto result = cpu.to(device(o.device));
        if (o.requires_grad) result.set_requires_grad(true);
        *out = wrap(std::move(result));
    });
}

namespace {
/// Owns the caller's blob context; releases it exactly once, when the last copy of the deleter
/// that libtorch keeps (or, should from_blob fail, the last copy of anything) lets go of it.
struct BlobContext {
    void (*release)(void *);
    void *context;
    BlobContext(void (*release)(void *), void *context) : release(release), context(context) {}
    BlobContext(const BlobContext &) = delete;
    BlobContext &operator=(const BlobContext &) = delete;
    ~BlobContext() {
        if (release) release(context);
    }
};
} // namespace

ctorch_status ctorch_from_blob(void *data, const int64_t *sizes, size_t ndim, ctorch_dtype d,
                               void (*release)(void *), void *context, ctorch_tensor *out) noexcept {
    // The owner is made inside the boundary; from then on whoever holds the last reference
    // (this frame on failure, libtorch's storage on success) releases the context.
    std::shared_ptr<BlobContext> owner;
    auto status = guarded([&] {
        owner = std::make_shared<BlobContext>(release, context);
        auto type = scalar_type(d);
        auto deleter = [owner](void *) mutable { owner.reset(); };
        *out = wrap(at::from_blob(data, ints(sizes, ndim), deleter, at::TensorOptions().dtype(type)));
    });
    // Not even the owner could be made (out of memory): release the context here.
    if (!owner && release) release(context);
    return status;
}

ctorch_status ctorch_scalar_tensor(ctorch_scalar value, ctorch_tensor *out) noexcept {
    return guarded([&] {
        auto s = scalar(value);
        auto result = c10::scalar_to_tensor(s);
        result.unsafeGetTensorImpl()->set_wrapped_number(true);
        *out = wrap(std::move(result));
    });
}

ctorch_status ctorch_empty(const int64_t *sizes, size_t ndim, ctorch_options o, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::empty(ints(sizes, ndim), options(o))); });
}
ctorch_status ctorch_zeros(const int64_t *sizes, size_t ndim, ctorch_options o, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::zeros(ints(sizes, ndim), options(o))); });
}
ctorch_status ctorch_ones(const int64_t *sizes, size_t ndim, ctorch_options o, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::ones(ints(sizes, ndim), options(o))); });
}
ctorch_status ctorch_full(const int64_t *sizes, size_t ndim, ctorch_scalar value, ctorch_options o,
                          ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::full(ints(sizes, ndim), scalar(value), options(o))); });
}
ctorch_status ctorch_rand(const int64_t *sizes, size_t ndim, ctorch_generator g, ctorch_options o,
                          ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::rand(ints(sizes, ndim), generator(g), options(o))); });
}
ctorch_status ctorch_randn(const int64_t *sizes, size_t ndim, ctorch_generator g, ctorch_options o,
                           ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::randn(ints(sizes, ndim), generator(g), options(o))); });
}
ctorch_status ctorch_randint(int64_t low, int64_t high, const int64_t *sizes, size_t ndim, ctorch_generator g,
                             ctorch_options o, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::randint(low, high, ints(sizes, ndim), generator(g), options(o))); });
}
ctorch_status ctorch_arange(ctorch_scalar start, ctorch_scalar end, ctorch_scalar step, ctorch_options o,
                            ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::arange(scalar(start), scalar(end), scalar(step), options(o))); });
}
ctorch_status ctorch_linspace(double start, double end, int64_t steps, ctorch_options o, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::linspace(start, end, steps, options(o))); });
}
ctorch_status ctorch_eye(int64_t n, int64_t m, ctorch_options o, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::eye(n, m, options(o))); });
}
ctorch_status ctorch_zeros_like(ctorch_tensor t, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::zeros_like(tensor(t))); });
}
ctorch_status ctorch_ones_like(ctorch_tensor t, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::ones_like(tensor(t))); });
}
ctorch_status ctorch_full_like(ctorch_tensor t, ctorch_scalar value, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::full_like(tensor(t), scalar(value))); });
}
ctorch_status ctorch_rand_like(ctorch_tensor t, ctorch_generator g, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::empty_like(tensor(t)).uniform_(0, 1, generator(g))); });
}
ctorch_status ctorch_randn_like(ctorch_tensor t, ctorch_generator g, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(at::empty_like(tensor(t)).normal_(0, 1, generator(g))); });
}

// ---- Conversion ----

ctorch_status ctorch_to_dtype(ctorch_tensor a, ctorch_dtype d, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(tensor(a).to(scalar_type(d))); });
}
ctorch_status ctorch_to_device(ctorch_tensor a, ctorch_device d, ctorch_tensor *out) noexcept {
    return guarded([&] { *out = wrap(tensor(a).to(device(d))); });
}
ctorch_status ctorch_item_double(ctorch_tensor a, double *out) noexcept {
    return guarded([&] {
        meta::refuse("item (a value)", tensor(a));
        *out = tensor(a).item<double>();
    });
}
ctorch_status ctorch_item_int64(ctorch_tensor a, int64_t *out) noexcept {
    return guarded([&] {
        meta::refuse("item (a value)", tensor(a));
        *out = tensor(a).item<int64_t>();
    });
}
ctorch_status ctorch_item_bool(ctorch_tensor a, bool *out) noexcept {
    return guarded([&] {
        meta::refuse("item (a value)", tensor(a));
        *out = tensor(a).item<bool>();
    });
}

ctorch_status ctorch_copy_to_buffer(ctorch_tensor a, ctorch_dtype d, void *buffer, size_t capacity) noexcept {
    return guarded([&] {
        const auto &x = tensor(a);
        TORCH_CHECK_VALUE(x.defined(), "cannot read an undefined tensor");
        meta::refuse("reading values", x);
        auto cpu = x.detach().to(at::kCPU, scalar_type(d)).contiguous();
        TORCH_CHECK_VALUE(cpu.nbytes() <= capacity, "buffer of ", capacity, " bytes is too small for ",
                          cpu.nbytes());
        if (cpu.nbytes()) std::memcpy(buffer, cpu.data_ptr(), cpu.nbytes());
    });
}

} // extern "C"
