// libtorch called from C++ with no binding layer in between, for `nnsight-bench ops`.
#include "torch_baseline.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <functional>
#include <limits>
#include <string>

namespace {
double best_ns_per_call(const std::function<at::Tensor()> &op, long iterations) {
    for (int i = 0; i < 1000; ++i) op();
    double best = std::numeric_limits<double>::infinity();
    for (int round = 0; round < 3; ++round) {
        auto start = std::chrono::steady_clock::now();
        for (long i = 0; i < iterations; ++i) op();
        auto elapsed = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
        best = std::min(best, elapsed / static_cast<double>(iterations));
    }
    return best;
}
} // namespace

extern "C" double torch_baseline_ns_per_call(const char *name, long iterations) {
    at::set_num_threads(1);
    auto a = at::rand({4}), b = at::rand({4});
    auto row = at::rand({1, 64}), w = at::rand({64, 64});
    auto x = at::rand({8, 16});
    using namespace at::indexing;
    std::string op(name);
    if (op == "add") return best_ns_per_call([&] { return a + b; }, iterations);
    if (op == "mul_scalar") return best_ns_per_call([&] { return a * 2.0; }, iterations);
    if (op == "matmul") return best_ns_per_call([&] { return row.matmul(w); }, iterations);
    if (op == "index") return best_ns_per_call([&] { return x.index({Ellipsis, -1}); }, iterations);
    if (op == "sum") return best_ns_per_call([&] { return a.sum(); }, iterations);
    if (op == "softmax") return best_ns_per_call([&] { return x.softmax(-1); }, iterations);
    return -1;
}
