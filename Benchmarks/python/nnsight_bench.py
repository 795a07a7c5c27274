#!/usr/bin/env python3
"""Python nnsight reference for the Swift NNsight benchmarks (overhead of a trace).

Measures with time.perf_counter_ns, after a warm-up, over --repeats timed rounds, reporting the
median and the best (minimum) per case; the cases of one group are interleaved round-robin so that
load from other processes on a shared machine hits them alike. One torch intra-op thread
(--threads), float32, CPU.

  tiny        nn.Sequential(OrderedDict(layer1=Linear(5,10), layer2=Linear(10,2))) wrapped as
              nnsight.NNsight, x = rand(1,5):
                raw_forward_us          net(x) with grad enabled (what a trace runs under: nnsight
                                        does not disable grad)
                raw_forward_no_grad_us  net(x) under torch.no_grad()
                raw_forward_unwrapped_us  an identical never-wrapped copy (NNsight swaps every
                                        module's forward for a controller, which costs outside traces too)
                trace_save_us           `with model.trace(x): model.layer1.output.save()`
                trace_fixed_cost_us     trace_save - raw_forward (medians)
  marginal    nn.Sequential of 12 Linear(8,8) (children "0".."11") wrapped as NNsight, x = rand(1,8):
              per k in 1,2,4,8,12 a trace that
                reads     model[i].output.save()          for i < k
                writes    model[i].output[:] = 0           for i < k  (in place)
                swaps     model[i].output = model[i].output * 1   for i < k  (replacement)
              plus trace_empty_us (a trace that touches no module), raw_forward_us and
              raw_forward_unwrapped_us; the marginal cost per access is the least-squares slope of
              the median µs against k.
  gpt2_small  random-weight GPT2LMHeadModel(GPT2Config()) (12 layers, 768 wide, vocab 50257; built in
              memory, seed 0, eval mode) wrapped as nnsight.NNsight, input_ids = 16 seeded tokens [1,16]:
                raw_forward_ms, raw_forward_no_grad_ms, raw_forward_unwrapped_ms (never-wrapped
                copy), trace_save_all_ms (saves all 12 transformer.h[i].output),
                trace_save_all_no_grad_ms (the same trace inside torch.no_grad()),
                ratio = trace_save_all / raw_forward (medians, both with grad enabled);
                ratio_best the same with best times (less sensitive to a loaded machine)

Usage:
  python3 Benchmarks/python/nnsight_bench.py [--repeats N] [--only tiny|marginal|gpt2_small]

Prints progress to stderr and ONE JSON object as the last line of stdout. The trace bodies must live
in a file (nnsight compiles the source of each `with` block; its compile cache is keyed by location,
so the warm-up pays the one-time capture cost).
"""

import argparse
import copy
import json
import os
import platform
import statistics
import sys
import time
import warnings
from collections import OrderedDict

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
warnings.filterwarnings("ignore")

import torch  # noqa: E402
from torch import nn  # noqa: E402

import nnsight  # noqa: E402
import transformers  # noqa: E402
from nnsight import NNsight  # noqa: E402

KS = [1, 2, 4, 8, 12]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def measure_group(fns, repeats, warmup, unit, inner=1):
    """Median and best per case over `repeats` rounds, after `warmup` untimed rounds.

    The cases are interleaved round-robin (one timed sample of each per round), so load from other
    processes on a shared machine hits them alike. A sample times `inner` back-to-back calls and is
    divided by `inner` (used for the microsecond-scale raw forwards).
    """
    names = list(fns)
    for _ in range(warmup):
        for n in names:
            for _ in range(inner):
                fns[n]()
    samples = {n: [] for n in names}
    for _ in range(repeats):
        for n in names:
            fn = fns[n]
            t0 = time.perf_counter_ns()
            for _ in range(inner):
                fn()
            samples[n].append((time.perf_counter_ns() - t0) / inner)
    scale = 1e3 if unit == "us" else 1e6
    return {n: {"median": round(statistics.median(v) / scale, 3),
                "best": round(min(v) / scale, 3),
                "repeats": repeats, "calls_per_sample": inner}
            for n, v in samples.items()}


def slope(xs, ys):
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return round(b, 3), round(my - b * mx, 3)


# ----------------------------------------------------------------------------------------------
# tiny
# ----------------------------------------------------------------------------------------------

def bench_tiny(repeats):
    torch.manual_seed(0)
    net = nn.Sequential(OrderedDict(layer1=nn.Linear(5, 10), layer2=nn.Linear(10, 2)))
    plain = copy.deepcopy(net)  # never wrapped: NNsight replaces each module's forward
    model = NNsight(net)
    x = torch.rand(1, 5)

    def raw():
        net(x)

    def raw_no_grad():
        with torch.no_grad():
            net(x)

    def raw_unwrapped():
        plain(x)

    def trace_save():
        with model.trace(x):
            model.layer1.output.save()

    def trace_empty():
        with model.trace(x):
            pass

    warm = max(20, repeats // 10)
    log("tiny")
    m = measure_group({"raw": raw, "raw_no_grad": raw_no_grad, "unwrapped": raw_unwrapped},
                      repeats, warm, "us", inner=10)
    r, rn, ru = m["raw"], m["raw_no_grad"], m["unwrapped"]
    m = measure_group({"save": trace_save, "empty": trace_empty}, repeats, warm, "us")
    ts, te = m["save"], m["empty"]
    return {
        "model": "Sequential(layer1=Linear(5,10), layer2=Linear(10,2)) as NNsight, x=rand(1,5)",
        "raw_forward_us": r,
        "raw_forward_no_grad_us": rn,
        "raw_forward_unwrapped_us": ru,
        "trace_save_us": ts,
        "trace_empty_us": te,
        "trace_fixed_cost_us": round(ts["median"] - r["median"], 3),
    }


# ----------------------------------------------------------------------------------------------
# marginal
# ----------------------------------------------------------------------------------------------

def bench_marginal(repeats):
    torch.manual_seed(0)
    net = nn.Sequential(*[nn.Linear(8, 8) for _ in range(12)])
    plain = copy.deepcopy(net)
    model = NNsight(net)
    x = torch.rand(1, 8)

    def reads(k):
        def run():
            with model.trace(x):
                for i in range(k):
                    model[i].output.save()
        return run

    def writes(k):
        def run():
            with model.trace(x):
                for i in range(k):
                    model[i].output[:] = 0
        return run

    def swaps(k):
        def run():
            with model.trace(x):
                for i in range(k):
                    model[i].output = model[i].output * 1
        return run

    def empty():
        with model.trace(x):
            pass

    # sanity: the interventions do what they say
    with model.trace(x):
        saved = nnsight.save([model[i].output for i in range(12)])
    assert len(saved) == 12 and all(isinstance(s, torch.Tensor) for s in saved)
    with model.trace(x):
        model[11].output[:] = 0
        out = model.output.save()
    assert torch.count_nonzero(out) == 0

    warm = max(20, repeats // 10)
    res = {"model": "Sequential of 12 Linear(8,8) (children '0'..'11') as NNsight, x=rand(1,8)",
           "ks": KS,
           **{k: v for k, v in zip(
               ("raw_forward_us", "raw_forward_unwrapped_us"),
               measure_group({"raw": lambda: net(x), "unwrapped": lambda: plain(x)},
                             repeats, warm, "us", inner=10).values())},
           "trace_empty_us": measure_group({"empty": empty}, repeats, warm, "us")["empty"]}
    for name, make in (("reads", reads), ("writes", writes), ("swaps", swaps)):
        log(f"marginal: {name}")
        m = measure_group({str(k): make(k) for k in KS}, repeats, warm, "us")
        per_k = {str(k): m[str(k)] for k in KS}
        b, a = slope(KS, [per_k[str(k)]["median"] for k in KS])
        res[name] = {"per_k_us": per_k, "marginal_us_per_access": b, "intercept_us": a,
                     "code": {"reads": "model[i].output.save()",
                              "writes": "model[i].output[:] = 0",
                              "swaps": "model[i].output = model[i].output * 1"}[name]}
    return res


# ----------------------------------------------------------------------------------------------
# gpt2_small
# ----------------------------------------------------------------------------------------------

def bench_gpt2_small(repeats):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    log("gpt2_small: building")
    hf = GPT2LMHeadModel(GPT2Config()).eval()
    plain = copy.deepcopy(hf)
    model = NNsight(hf)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, hf.config.vocab_size, (1, 16), generator=g)
    h = model.transformer.h

    def raw():
        hf(ids)

    def raw_no_grad():
        with torch.no_grad():
            hf(ids)

    def raw_unwrapped():
        plain(ids)

    def trace_all():
        with model.trace(ids):
            for i in range(12):
                h[i].output.save()

    def trace_all_no_grad():
        with torch.no_grad():
            with model.trace(ids):
                for i in range(12):
                    h[i].output.save()

    with model.trace(ids):
        outs = nnsight.save([h[i].output for i in range(12)])
    assert [tuple(o.shape) for o in outs] == [(1, 16, 768)] * 12

    warm = 3
    log("gpt2_small: timing")
    m = measure_group({"raw": raw, "raw_no_grad": raw_no_grad, "unwrapped": raw_unwrapped,
                       "trace": trace_all, "trace_no_grad": trace_all_no_grad}, repeats, warm, "ms")
    r, rn, ru, t, tn = m["raw"], m["raw_no_grad"], m["unwrapped"], m["trace"], m["trace_no_grad"]
    return {
        "model": "GPT2LMHeadModel(GPT2Config()) random init (seed 0), eval, as NNsight; "
                 "input_ids [1,16] seeded (torch.Generator seed 0)",
        "tokens": 16,
        "raw_forward_ms": r,
        "raw_forward_no_grad_ms": rn,
        "raw_forward_unwrapped_ms": ru,
        "trace_save_all_ms": t,
        "trace_save_all_no_grad_ms": tn,
        "ratio": round(t["median"] / r["median"], 4),
        "ratio_no_grad": round(tn["median"] / rn["median"], 4),
        "ratio_best": round(t["best"] / r["best"], 4),
        "overhead_ms": round(t["median"] - r["median"], 3),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=200,
                   help="timed rounds per case (a raw-forward sample of tiny/marginal averages 10 "
                        "calls; gpt2_small uses max(10, N // 10) rounds)")
    p.add_argument("--only", choices=["tiny", "marginal", "gpt2_small"])
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    out = {
        "versions": {"torch": torch.__version__, "nnsight": nnsight.__version__,
                     "transformers": transformers.__version__, "python": platform.python_version()},
        "threads": torch.get_num_threads(),
        "repeats": args.repeats,
        "machine": platform.machine(),
    }
    if args.only in (None, "tiny"):
        out["tiny"] = bench_tiny(args.repeats)
    if args.only in (None, "marginal"):
        out["marginal"] = bench_marginal(args.repeats)
    if args.only in (None, "gpt2_small"):
        out["gpt2_small"] = bench_gpt2_small(max(10, args.repeats // 10))
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
