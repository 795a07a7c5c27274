"""The transformers side of issue 15's GPU benchmarks, on the same shapes and token ids as
nnsight-gpu-check (Benchmarks/nnsight-gpu-check/GPUBenchmarks.swift): bf16 on cuda:0, random
weights, prefill of 128 tokens (ms) and greedy decode of 64 tokens at batch 1 and 32 (tokens/s),
medians like the Swift side. Writes {"<shape> prefill 128 (ms)": …, "<shape> decode batch N (tok/s)": …}.
Run by run.sh on the GPU machine; needs torch and transformers only."""
import argparse
import json
import statistics
import time

import torch
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

SHAPES = {
    "smollm2-135m": lambda: LlamaForCausalLM(LlamaConfig(
        hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
        num_key_value_heads=3, vocab_size=49152, max_position_embeddings=8192, rms_norm_eps=1e-5,
        rope_theta=100000.0, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2)),
    "gpt2-small": lambda: GPT2LMHeadModel(GPT2Config(
        n_embd=768, n_layer=12, n_head=12, vocab_size=50257, n_positions=1024)),
}


def median_seconds(body, warmup=3, repeats=10):
    for _ in range(warmup):
        body()
    samples = []
    for _ in range(repeats):
        torch.cuda.synchronize()
        start = time.perf_counter()
        body()
        torch.cuda.synchronize()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--device", default="cuda:0")
    args = parser.parse_args()
    results = {}
    for name, make in SHAPES.items():
        torch.manual_seed(0)
        model = make().to(device=args.device, dtype=torch.bfloat16).eval()
        prompt = torch.arange(1000, 1128, device=args.device).unsqueeze(0)
        with torch.no_grad():
            seconds = median_seconds(lambda: model(prompt).logits[:, -1].sum().item())
        results[f"{name} prefill 128 (ms)"] = seconds * 1000
        for batch in (1, 32):
            ids = torch.arange(1000, 1016, device=args.device).repeat(batch, 1)
            mask = torch.ones_like(ids)
            with torch.no_grad():
                seconds = median_seconds(lambda: model.generate(
                    ids, attention_mask=mask, max_new_tokens=64, min_new_tokens=64, do_sample=False,
                    pad_token_id=0).sum().item(), warmup=1, repeats=3)
            results[f"{name} decode batch {batch} (tok/s)"] = batch * 64 / seconds
        print(name, {k: round(v, 3) for k, v in results.items() if k.startswith(name)})
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
