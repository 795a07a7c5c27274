#!/usr/bin/env python3
"""Transformers reference for the Swift model benchmarks (`nnsight-bench models`).

Loads one causal LM with Hugging Face transformers and measures, in eval mode under
torch.inference_mode(), after a warm-up, best of --repeats:

  prefill_ms              one forward pass over a [batch, --tokens] prompt (use_cache=True)
  prefill_last_ms         the same with logits_to_keep=1 (last position's logits only, as generate does)
  decode_ms_per_token     greedy decoding with the KV cache, one [batch, 1] step per token, averaged
                          over --new-tokens steps; prefill excluded (a plain loop over model(...))
  generate_ms             model.generate(do_sample=False, max_new_tokens=--new-tokens) on the batch,
                          eos disabled so every row gets exactly --new-tokens tokens; prefill included
  generate_tokens_per_s   batch * new_tokens / generate time
  rss_after_load_mib      peak RSS (getrusage ru_maxrss) right after loading; rss_before_load_mib (after
                          importing torch and transformers) and peak_rss_mib (at the end) beside it
  checkpoint_bytes        size of the checkpoint files (null for an in-memory --shape gpt2-small)

Prompts are fixed pseudo-random token ids (seed 0, all rows --tokens long, no padding), so the Swift
side can use the same shapes without a tokenizer.

Models (exactly one):
  --model DIR           a Hugging Face folder (config.json + *.safetensors)
  --gguf PATH           a GGUF file, dequantized by transformers (needs `gguf` and `accelerate`)
  --shape gpt2-small    random-weight GPT-2 small (12 layers, 768 wide, 12 heads, vocab 50257),
                        built in memory, no download
  --shape smollm2       .models/SmolLM2-135M-Instruct.Q4_1.gguf (30 layers, 576 wide, 9/3 heads)

--skip-generate leaves out the generate measurement (the family shapes of `nnsight-bench models`
measure prefill and decode only).

Usage:
  python3 Benchmarks/python/models_bench.py --shape gpt2-small --dtype float32 --batch 1 --threads 1
  python3 Benchmarks/python/models_bench.py --shape smollm2 --batch 8

Prints progress to stderr and ONE JSON object as the last line of stdout.
"""

import argparse
import json
import os
import resource
import sys
import time

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SMOLLM2_GGUF = os.path.join(ROOT, ".models", "SmolLM2-135M-Instruct.Q4_1.gguf")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="Hugging Face model folder")
    src.add_argument("--gguf", help="GGUF file")
    src.add_argument("--shape", choices=["gpt2-small", "smollm2"])
    p.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    p.add_argument("--tokens", type=int, default=16, help="prompt length")
    p.add_argument("--new-tokens", type=int, default=20, help="tokens to generate")
    p.add_argument("--batch", type=int, default=1, help="rows (1 or 8)")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    p.add_argument("--repeats", type=int, default=5, help="timed repeats (best is reported)")
    p.add_argument("--warmup", type=int, default=1, help="untimed warm-up runs")
    p.add_argument("--skip-generate", action="store_true",
                   help="leave out model.generate (generate_ms and generate_tokens_per_s are null)")
    return p.parse_args()


def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def load(args, torch):
    import transformers

    dtype = getattr(torch, args.dtype)
    if args.shape == "gpt2-small":
        torch.manual_seed(0)
        config = transformers.GPT2Config(vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12)
        model = transformers.GPT2LMHeadModel(config).to(dtype)
        return "gpt2-small (random weights, in memory)", model, None
    gguf = SMOLLM2_GGUF if args.shape == "smollm2" else args.gguf
    if gguf:
        folder, name = os.path.split(os.path.abspath(gguf))
        model = transformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=dtype)
        return gguf, model, os.path.getsize(gguf)
    model = transformers.AutoModelForCausalLM.from_pretrained(args.model, dtype=dtype)
    size = sum(os.path.getsize(os.path.join(args.model, f)) for f in os.listdir(args.model)
               if f.endswith(".safetensors") or (f.startswith("pytorch_model") and f.endswith(".bin")))
    return args.model, model, size


def best_time(fn, repeats, warmup):
    """Best wall time of fn() in seconds; fn may return a time of its own to use instead."""
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        own = fn()
        best = min(best, own if own is not None else time.perf_counter() - start)
    return best


def main():
    args = parse_args()
    import torch

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    import transformers

    rss_imports = rss_mib()  # torch + transformers alone
    t0 = time.perf_counter()
    label, model, ckpt_bytes = load(args, torch)
    load_s = time.perf_counter() - t0
    rss_load = rss_mib()
    model.eval()
    config = model.config
    print(f"loaded {label} in {load_s:.1f}s, rss {rss_load:.0f} MiB", file=sys.stderr)

    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, config.vocab_size, (args.batch, args.tokens), generator=gen)
    mask = torch.ones_like(ids)
    model.generation_config.eos_token_id = None  # exactly new_tokens tokens per row
    gen_config = transformers.GenerationConfig(
        do_sample=False, max_new_tokens=args.new_tokens, eos_token_id=None,
        pad_token_id=config.pad_token_id if config.pad_token_id is not None else 0)

    with torch.inference_mode():
        def prefill():
            model(input_ids=ids, attention_mask=mask, use_cache=True)

        def decode():
            out = model(input_ids=ids, attention_mask=mask, use_cache=True)
            past, nxt, m = out.past_key_values, out.logits[:, -1].argmax(-1, keepdim=True), mask
            start = time.perf_counter()
            for _ in range(args.new_tokens):
                m = torch.cat([m, torch.ones_like(nxt)], dim=-1)
                out = model(input_ids=nxt, attention_mask=m, past_key_values=past, use_cache=True)
                past, nxt = out.past_key_values, out.logits[:, -1].argmax(-1, keepdim=True)
            return time.perf_counter() - start

        def generate():
            out = model.generate(input_ids=ids, attention_mask=mask, generation_config=gen_config)
            assert out.shape[1] == args.tokens + args.new_tokens

        def prefill_last():
            model(input_ids=ids, attention_mask=mask, use_cache=True, logits_to_keep=1)

        prefill_s = best_time(prefill, args.repeats, args.warmup)
        print(f"prefill {prefill_s * 1e3:.2f} ms", file=sys.stderr)
        prefill_last_s = best_time(prefill_last, args.repeats, args.warmup)
        decode_s = best_time(decode, args.repeats, args.warmup)
        print(f"decode {decode_s * 1e3 / args.new_tokens:.2f} ms/token", file=sys.stderr)
        generate_s = None if args.skip_generate else best_time(generate, args.repeats, args.warmup)
        if generate_s is not None:
            print(f"generate {generate_s * 1e3:.1f} ms", file=sys.stderr)

    result = {
        "framework": "transformers",
        "torch": torch.__version__.split("+")[0],
        "transformers": transformers.__version__,
        "model": label,
        "shape": args.shape,
        "model_type": config.model_type,
        "attn_implementation": getattr(config, "_attn_implementation", None),
        "parameters": sum(p.numel() for p in model.parameters()),
        "dtype": args.dtype,
        "threads": args.threads,
        "batch": args.batch,
        "tokens": args.tokens,
        "new_tokens": args.new_tokens,
        "repeats": args.repeats,
        "load_s": round(load_s, 3),
        "checkpoint_bytes": ckpt_bytes,
        "rss_before_load_mib": round(rss_imports, 1),
        "rss_after_load_mib": round(rss_load, 1),
        "prefill_ms": round(prefill_s * 1e3, 3),
        "prefill_last_ms": round(prefill_last_s * 1e3, 3),
        "decode_ms_per_token": round(decode_s * 1e3 / args.new_tokens, 3),
        "generate_ms": None if generate_s is None else round(generate_s * 1e3, 3),
        "generate_tokens_per_s": None if generate_s is None else round(args.batch * args.new_tokens / generate_s, 2),
        "peak_rss_mib": round(rss_mib(), 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
