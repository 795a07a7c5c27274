/* The same small ops as `nnsight-bench ops`, called from C++ directly on libtorch: the floor
 * that Swift's and Python's per-op overheads are measured against. Benchmark support only. */
#ifndef TORCH_BASELINE_H
#define TORCH_BASELINE_H

#ifdef __cplusplus
extern "C" {
#endif

/** Best-of-three nanoseconds per call of op `name` ("add", "mul_scalar", "matmul", "index",
 *  "sum", "softmax") over `iterations` calls; negative for an unknown name. */
double torch_baseline_ns_per_call(const char *name, long iterations);

#ifdef __cplusplus
}
#endif

#endif
