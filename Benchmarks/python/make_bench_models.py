#!/usr/bin/env python3
"""Random-weight checkpoints of the model families for `nnsight-bench models` (made at bench time,
never committed).

Each shape is a small model of realistic proportions for its family (a released model's ratios of
width, MLP width, heads and key/value heads, shrunk to 6 layers x 512 wide), built by transformers
with its own random initialisation (seed 0) and saved with `save_pretrained` as float32
safetensors, so both sides load the very same files:

  gpt-neox  Pythia-70M's shape exactly: 512 wide, 6 layers, 8 heads, MLP 2048, rotary 25 %,
            parallel residual, vocabulary 50304
  gemma2    Gemma 2 2B's ratios: MLP 4x, 8 heads / 4 key-value heads of 64, soft-caps 50 / 30,
            sliding window on alternate layers, tied embeddings; vocabulary 32000 (not 256000:
            the embedding would dwarf the 6 layers)
  qwen3     Qwen3-0.6B's ratios: MLP 3x, 8 / 4 heads of 64, q/k norms, tied embeddings;
            vocabulary 32000
  olmo2     OLMo-2-1B's ratios: MLP 4x, 8 / 8 heads, q/k norms, post-norms; vocabulary 32000
  phi3      Phi-3-mini's ratios: MLP 2.75x, fused qkv and gate/up, window 2047; vocabulary 32064
  mixtral   Mixtral-8x7B's ratios: 8 experts, top 2, expert MLP 3.5x, 8 / 2 heads; vocabulary 32000

Usage:
  python3 Benchmarks/python/make_bench_models.py --out .build/bench-models gpt-neox qwen3

Writes <out>/<shape>/ (config.json, model.safetensors) unless it already holds this script's
config for the shape; prints ONE JSON object, {shape: folder}, as the last line of stdout.
"""

import argparse
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

WIDTH, LAYERS, HEADS = 512, 6, 8


def configs(transformers):
    common = dict(hidden_size=WIDTH, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                  max_position_embeddings=2048, bos_token_id=1, eos_token_id=2, pad_token_id=0)
    return {
        "gpt-neox": transformers.GPTNeoXConfig(
            vocab_size=50304, intermediate_size=4 * WIDTH, rotary_pct=0.25, use_parallel_residual=True,
            tie_word_embeddings=False, **common),
        "gemma2": transformers.Gemma2Config(
            vocab_size=32000, intermediate_size=4 * WIDTH, num_key_value_heads=4, head_dim=64,
            query_pre_attn_scalar=64, sliding_window=4096, tie_word_embeddings=True, **common),
        "qwen3": transformers.Qwen3Config(
            vocab_size=32000, intermediate_size=3 * WIDTH, num_key_value_heads=4, head_dim=64,
            tie_word_embeddings=True, **common),
        "olmo2": transformers.Olmo2Config(
            vocab_size=32000, intermediate_size=4 * WIDTH, num_key_value_heads=HEADS,
            tie_word_embeddings=False, **common),
        "phi3": transformers.Phi3Config(
            vocab_size=32064, intermediate_size=1408, num_key_value_heads=HEADS, sliding_window=2047,
            tie_word_embeddings=False, **common),
        "mixtral": transformers.MixtralConfig(
            vocab_size=32000, intermediate_size=1792, num_key_value_heads=2, num_local_experts=8,
            num_experts_per_tok=2, tie_word_embeddings=False, **common),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("shapes", nargs="+")
    args = p.parse_args()

    import torch
    import transformers

    all_configs = configs(transformers)
    folders = {}
    for shape in args.shapes:
        if shape not in all_configs:
            sys.exit(f"unknown shape {shape}; known: {', '.join(all_configs)}")
        folder = os.path.join(os.path.abspath(args.out), shape)
        config = all_configs[shape]
        stamp = os.path.join(folder, "bench-config.json")
        wanted = config.to_json_string()
        if not (os.path.exists(stamp) and open(stamp).read() == wanted
                and os.path.exists(os.path.join(folder, "model.safetensors"))):
            torch.manual_seed(0)
            model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
            model.save_pretrained(folder, safe_serialization=True)
            with open(stamp, "w") as f:
                f.write(wanted)
            params = sum(t.numel() for t in model.parameters())
            print(f"{shape}: {params / 1e6:.1f}M parameters -> {folder}", file=sys.stderr)
        folders[shape] = folder
    print(json.dumps(folders))


if __name__ == "__main__":
    main()
