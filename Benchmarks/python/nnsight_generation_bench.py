#!/usr/bin/env python3
"""Python nnsight reference for the Swift generation and cache benchmarks (issue 6).

One random-weight GPT2LMHeadModel(GPT2Config()) (12 layers, 768 wide, vocab 50257; built in memory,
seed 0, eval mode), input_ids = 16 seeded tokens [1,16] (torch.Generator seed 0). One torch
intra-op thread (--threads), float32, CPU. Times with time.perf_counter_ns after a warm-up; the
cases of a group are interleaved round-robin (one sample of each per round) so that load from other
processes on a shared machine hits them alike; median and best (minimum) per case.

  generation  20-token greedy generation, EOS disabled (generation_config.eos_token_id = None,
              pad_token_id = 50256), so every run makes exactly 20 new tokens:
                raw_generate_ms       hf.generate(ids, max_new_tokens=20, do_sample=False)
                                      on a never-wrapped copy of the model
                raw_generate_wrapped_ms  the same call on the model nnsight wraps (outside a trace)
                nnsight_generate_ms   `with model.generate(ids, max_new_tokens=20, do_sample=False)
                                      as tracer: for step in tracer.iter[:]:
                                      outs.append(transformer.h[-1].output)` (saved: a list made
                                      with nnsight.save) — one block output saved per step
                ratio, ratio_best     nnsight_generate / raw_generate (medians; bests)
              The model is wrapped as nnsight.LanguageModel(hf, tokenizer=tok) with the tokenizer of
              Tests/Fixtures/models/tiny-gpt2 (only needed for padding; the input is the id tensor).
  cache       a 16-token forward:
                raw_forward_ms        hf(ids) (grad enabled, as a trace runs)
                cache_trace_ms        `with model.trace(ids) as tracer: cache = tracer.cache()`
                                      (every module's output)
                ratio, ratio_best
              and the memory of one cache: the number of cached tensors, the sum of their bytes
              (numel * element size: what copies would cost), the number of distinct storages among
              them and those storages' bytes, and how many cached tensors share storage with the live
              output of the same module (read in a second, untimed trace through forward hooks on the
              raw module) — equal to the count when the cache makes no copies.

Usage:
  python3 Benchmarks/python/nnsight_generation_bench.py [--repeats N] [--only generation|cache]

Prints progress to stderr and ONE JSON object as the last line of stdout.
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

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
warnings.filterwarnings("ignore")

import torch  # noqa: E402

import nnsight  # noqa: E402
import transformers  # noqa: E402
from nnsight import LanguageModel  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKENIZER = os.path.join(ROOT, "Tests", "Fixtures", "models", "tiny-gpt2", "tokenizer.json")
NEW_TOKENS = 20


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def measure_group(fns, repeats, warmup):
    names = list(fns)
    for _ in range(warmup):
        for n in names:
            fns[n]()
    samples = {n: [] for n in names}
    for _ in range(repeats):
        for n in names:
            t0 = time.perf_counter_ns()
            fns[n]()
            samples[n].append(time.perf_counter_ns() - t0)
    return {n: {"median": round(statistics.median(v) / 1e6, 3), "best": round(min(v) / 1e6, 3),
                "repeats": repeats} for n, v in samples.items()}


def build():
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    torch.manual_seed(0)
    hf = GPT2LMHeadModel(GPT2Config()).eval()
    hf.generation_config.eos_token_id = None
    hf.generation_config.pad_token_id = 50256
    plain = copy.deepcopy(hf)
    tok = PreTrainedTokenizerFast(tokenizer_file=TOKENIZER)
    tok.pad_token = tok.eos_token = "<|endoftext|>" if "<|endoftext|>" in tok.get_vocab() else tok.convert_ids_to_tokens(0)
    tok.padding_side = "left"
    model = LanguageModel(hf, tokenizer=tok)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, hf.config.vocab_size, (1, 16), generator=g)
    return hf, plain, model, ids


def bench_generation(hf, plain, model, ids, repeats):
    kwargs = dict(max_new_tokens=NEW_TOKENS, do_sample=False)

    def raw():
        plain.generate(ids, **kwargs)

    def raw_wrapped():
        hf.generate(ids, **kwargs)

    def traced():
        with model.generate(ids, **kwargs) as tracer:
            outs = nnsight.save([])
            for _ in tracer.iter[:]:
                outs.append(model.transformer.h[-1].output)
        return outs

    expected = plain.generate(ids, **kwargs)
    assert tuple(expected.shape) == (1, 16 + NEW_TOKENS), expected.shape
    outs = traced()
    hidden = [o if isinstance(o, torch.Tensor) else o[0] for o in outs]
    assert len(hidden) == NEW_TOKENS, len(hidden)
    assert tuple(hidden[0].shape) == (1, 16, 768) and tuple(hidden[1].shape) == (1, 1, 768), \
        [tuple(h.shape) for h in hidden[:2]]

    log("generation: timing")
    m = measure_group({"raw": raw, "raw_wrapped": raw_wrapped, "nnsight": traced}, repeats, 2)
    r, rw, t = m["raw"], m["raw_wrapped"], m["nnsight"]
    return {
        "new_tokens": NEW_TOKENS,
        "code": "with model.generate(ids, max_new_tokens=20, do_sample=False) as tracer: "
                "outs = nnsight.save([]); for _ in tracer.iter[:]: outs.append(model.transformer.h[-1].output)",
        "raw_generate_ms": r,
        "raw_generate_wrapped_ms": rw,
        "nnsight_generate_ms": t,
        "ratio": round(t["median"] / r["median"], 4),
        "ratio_best": round(t["best"] / r["best"], 4),
        "saved_per_step_shapes": [list(h.shape) for h in hidden[:2]],
    }


def bench_cache(hf, plain, model, ids, repeats):
    def raw():
        plain(ids)

    def cached():
        with model.trace(ids) as tracer:
            cache = tracer.cache().save()
        return cache

    cache = cached()
    entries = {}
    for path, visits in cache._cache.entries.items():
        out = visits[0].output
        if isinstance(out, torch.Tensor):
            entries[path] = out
        elif isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
            entries[path] = out[0]
    tensors = list(entries.values())
    total_bytes = sum(t.numel() * t.element_size() for t in tensors)
    storages = {}
    for t in tensors:
        s = t.untyped_storage()
        storages[s.data_ptr()] = s.nbytes()

    # The live outputs of the same modules, caught by forward hooks on the wrapped module during a
    # second cache trace: a cached tensor that is no copy shares its storage with the live one.
    live = {}
    handles = []
    for name, module in hf.named_modules():
        key = "model" + ("." + name if name else "")

        def hook(mod, args, output, key=key):
            o = output if isinstance(output, torch.Tensor) else (output[0] if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor) else None)
            if o is not None:
                live[key] = o
        handles.append(module.register_forward_hook(hook))
    cache2 = cached()
    for h in handles:
        h.remove()
    shared = 0
    compared = 0
    for path, visits in cache2._cache.entries.items():
        out = visits[0].output
        out = out if isinstance(out, torch.Tensor) else (out[0] if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor) else None)
        if out is None or path not in live:
            continue
        compared += 1
        shared += int(out.untyped_storage().data_ptr() == live[path].untyped_storage().data_ptr())

    log("cache: timing")
    m = measure_group({"raw": raw, "cache": cached}, repeats, 3)
    r, c = m["raw"], m["cache"]
    return {
        "tokens": 16,
        "code": "with model.trace(ids) as tracer: cache = tracer.cache().save()",
        "raw_forward_ms": r,
        "cache_trace_ms": c,
        "ratio": round(c["median"] / r["median"], 4),
        "ratio_best": round(c["best"] / r["best"], 4),
        "cached_modules": len(cache._cache.entries),
        "cached_tensors": len(tensors),
        "cached_bytes": total_bytes,
        "distinct_storages": len(storages),
        "distinct_storage_bytes": sum(storages.values()),
        "compared_with_live": compared,
        "sharing_live_storage": shared,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--only", choices=["generation", "cache"])
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    log("building")
    hf, plain, model, ids = build()
    out = {
        "versions": {"torch": torch.__version__, "nnsight": nnsight.__version__,
                     "transformers": transformers.__version__, "python": platform.python_version()},
        "threads": torch.get_num_threads(),
        "repeats": args.repeats,
        "model": "GPT2LMHeadModel(GPT2Config()) random init (seed 0), eval, as "
                 "nnsight.LanguageModel(hf, tokenizer=tiny-gpt2 tokenizer); input_ids [1,16] seeded "
                 "(torch.Generator seed 0)",
    }
    if args.only in (None, "generation"):
        out["generation"] = bench_generation(hf, plain, model, ids, args.repeats)
    if args.only in (None, "cache"):
        out["cache"] = bench_cache(hf, plain, model, ids, max(10, args.repeats * 2))
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
