"""Per-op time of small PyTorch ops from Python, the reference for `nnsight-bench ops`.

Prints one JSON object: {"torch": version, "ops": {name: nanoseconds per call}}.
"""
import json
import sys
import time

import torch

torch.set_num_threads(1)
iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000

a = torch.rand(4)
b = torch.rand(4)
row = torch.rand(1, 64)
w = torch.rand(64, 64)
x = torch.rand(8, 16)


def per_call(fn):
    for _ in range(1000):
        fn()
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter_ns()
        for _ in range(iterations):
            fn()
        best = min(best, (time.perf_counter_ns() - start) / iterations)
    return best


ops = {
    "add 4 + 4": per_call(lambda: a + b),
    "mul by scalar": per_call(lambda: a * 2.0),
    "matmul [1,64]x[64,64]": per_call(lambda: row @ w),
    "index x[..., -1]": per_call(lambda: x[..., -1]),
    "sum": per_call(lambda: a.sum()),
    "softmax dim -1": per_call(lambda: x.softmax(-1)),
}
print(json.dumps({"torch": torch.__version__, "ops": ops}))
