// Autograd: gradients, backward, grad mode and gradient hooks that call back into Swift.
#include "boundary.hpp"

#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/function.h>

#include <memory>

using namespace ctorch;

namespace {
/// Owns the caller's hook context; releases it exactly once, when libtorch drops the hook.
struct HookContext {
    ctorch_grad_hook_fn fn;
    void *context;
    void (*release)(void *);
    HookContext(ctorch_grad_hook_fn fn, void *context, void (*release)(void *))
        : fn(fn), context(context), release(release) {}
    // Copying would release the context twice (a temporary's destructor runs too).
    HookContext(const HookContext &) = delete;
    HookContext &operator=(const HookContext &) = delete;
    ~HookContext() {
        if (release) release(context);
    }
};
} // namespace

extern "C" {

ctorch_status ctorch_set_requires_grad(ctorch_tensor a, bool requires_grad) noexcept {
    return guarded([&] { tensor(a).set_requires_grad(requires_grad); });
}

ctorch_status ctorch_grad(ctorch_tensor a, ctorch_tensor *out) noexcept {
    return guarded([&] {
        const auto &g = tensor(a).grad();
        *out = g.defined() ? wrap(g) : nullptr;
    });
}

ctorch_status ctorch_set_grad(ctorch_tensor a, ctorch_tensor grad) noexcept {
    return guarded([&] { tensor(a).mutable_grad() = grad ? tensor(grad) : at::Tensor(); });
}

ctorch_status ctorch_retain_grad(ctorch_tensor a) noexcept { return guarded([&] { tensor(a).retain_grad(); }); }

const char *ctorch_grad_fn_name(ctorch_tensor a) noexcept {
    thread_local std::string name;
    name.clear();
    return queried("", [&] {
        const auto &x = tensor(a);
        if (x.defined() && x.grad_fn()) name = x.grad_fn()->name();
        return name.c_str();
    });
}

ctorch_status ctorch_backward(ctorch_tensor a, ctorch_tensor gradient, bool retain_graph, bool create_graph) noexcept {
    return guarded([&] {
        const auto &x = tensor(a);
        TORCH_CHECK_VALUE(x.defined(), "backward on an undefined tensor");
        x.backward(gradient ? tensor(gradient) : at::Tensor(), retain_graph, create_graph);
    });
}

bool ctorch_is_grad_enabled(void) noexcept { return queried(true, [] { return c10::GradMode::is_enabled(); }); }

bool ctorch_set_grad_enabled(bool enabled) noexcept {
    return queried(true, [&] {
        bool previous = c10::GradMode::is_enabled();
        c10::GradMode::set_enabled(enabled);
        return previous;
    });
}

ctorch_status ctorch_register_grad_hook(ctorch_tensor a, ctorch_grad_hook_fn hook, void *context,
                                        void (*release)(void *), uint64_t *handle) noexcept {
    // The owner is made inside the boundary; from then on whoever holds the last reference (this
    // frame on failure, libtorch's hook list on success) releases the context.
    std::shared_ptr<HookContext> owner;
    auto status = guarded([&] {
        owner = std::make_shared<HookContext>(hook, context, release);
        auto position = tensor(a).register_hook([owner](at::Tensor grad) -> at::Tensor {
            ctorch_tensor_s borrowed{grad};
            ctorch_tensor replacement = nullptr;
            if (owner->fn(owner->context, &borrowed, &replacement) != 0) {
                ctorch_tensor_free(replacement);
                throw CallbackFailure();
            }
            // NULL or the undefined handle: keep the gradient as it is.
            if (!replacement || replacement == undefined_handle()) return at::Tensor();
            at::Tensor result = std::move(replacement->tensor);
            ctorch_tensor_free(replacement);
            return result;
        });
        *handle = position;
    });
    // Not even the owner could be made (out of memory): release the context here.
    if (!owner && release) release(context);
    return status;
}

ctorch_status ctorch_remove_grad_hook(ctorch_tensor a, uint64_t handle) noexcept {
    return guarded([&] { tensor(a).remove_hook(static_cast<unsigned>(handle)); });
}

} // extern "C"
