#!/usr/bin/env python3
"""Python nnsight 0.8.1's side of `nnsight-bench source`: the attention pattern of every layer
read through `.source`, and the cost of the first `.source` access.

    python3 Benchmarks/python/source_bench.py [--repeats N]

GPT2LMHeadModel(GPT2Config()) (GPT-2-small shape, random weights, eager attention so the pattern
exists), 16 random tokens, one intra-op thread. Cases, timed round-robin by `measure_group`
(Benchmarks/python/nnsight_bench.py's rule):
  raw            the model's forward
  trace_pattern  a trace saving every layer's attention pattern, reached as Python users do:
                 h[i].attn.source.attention_interface_1.source.<softmax op>.output
first_source_ms: the first `h[i].attn.source` access on a freshly wrapped model (nnsight builds
the accessor then), the median over the 12 layers.
Prints one JSON object last.
"""

import argparse
import copy
import json
import os
import statistics
import sys
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
warnings.filterwarnings("ignore")

import torch  # noqa: E402

torch.set_num_threads(1)

import nnsight  # noqa: E402
import transformers  # noqa: E402
from nnsight import NNsight  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from nnsight_bench import measure_group  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.manual_seed(0)
    config = transformers.GPT2Config()
    hf = transformers.GPT2LMHeadModel._from_config(config, attn_implementation="eager").eval()
    pristine = copy.deepcopy(hf)
    model = NNsight(hf)
    ids = torch.randint(0, config.vocab_size, (1, 16), generator=torch.Generator().manual_seed(0))
    h = model.transformer.h

    with model.trace(ids):
        names = nnsight.save(list(h[0].attn.source.attention_interface_1.source.names))
    softmax = next(n for n in names if "softmax" in n)

    def raw():
        hf(ids)

    def trace_pattern():
        with model.trace(ids):
            for i in range(12):
                getattr(h[i].attn.source.attention_interface_1.source, softmax).output.save()

    with model.trace(ids):
        pattern = getattr(h[0].attn.source.attention_interface_1.source, softmax).output.save()
    assert tuple(pattern.shape) == (1, 12, 16, 16), pattern.shape

    times = measure_group({"raw": raw, "trace_pattern": trace_pattern}, args.repeats, 3, "ms")

    fresh = NNsight(copy.deepcopy(pristine))
    first = []
    for i in range(12):
        t0 = time.perf_counter_ns()
        fresh.transformer.h[i].attn.source
        first.append((time.perf_counter_ns() - t0) / 1e6)

    print(json.dumps({
        "versions": {"nnsight": nnsight.__version__, "torch": torch.__version__, "transformers": transformers.__version__},
        "softmax_op": softmax,
        "raw_forward_ms": times["raw"],
        "trace_pattern_ms": times["trace_pattern"],
        "first_source_ms": round(statistics.median(first), 4),
    }))


if __name__ == "__main__":
    main()
