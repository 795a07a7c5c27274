#!/usr/bin/env python3
"""Python reference for `nnsight-bench gguf`: gguf-py's numpy dequantization
(`gguf.quants.dequantize`) of the packed blocks the Swift side wrote, single-threaded.

    python3 Benchmarks/python/gguf_bench.py BLOCKS_FILE TYPE_NAME ROW_ELEMENTS ROUNDS

Prints one JSON line: the best seconds of ROUNDS dequantizations, the element count, and
checksums of the float32 result's bits (Σ bits and Σ bits·(i+1), mod 2^64) so the Swift side can
confirm both produced the same values.
"""

import json
import sys
import time

import numpy as np

import gguf


def main():
    path, type_name, row_elements, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    qtype = gguf.GGMLQuantizationType[type_name]
    block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
    raw = np.fromfile(path, dtype=np.uint8)
    data = raw.reshape(-1, row_elements // block_size * type_size)
    best = float("inf")
    values = None
    for _ in range(rounds):
        start = time.perf_counter()
        values = gguf.quants.dequantize(data, qtype)
        best = min(best, time.perf_counter() - start)
    bits = np.ascontiguousarray(values, dtype=np.float32).reshape(-1).view(np.uint32).astype(np.uint64)
    with np.errstate(over="ignore"):
        s = int(np.sum(bits, dtype=np.uint64))
        w = int(np.sum(bits * np.arange(1, bits.size + 1, dtype=np.uint64), dtype=np.uint64))
    print(json.dumps({"seconds": best, "elements": int(values.size), "sum": str(s), "wsum": str(w)}))


if __name__ == "__main__":
    main()
