#!/usr/bin/env python3
"""Python reference for `nnsight-bench tokenizers`: Hugging Face `tokenizers` encode throughput,
single-threaded, on the text file the Swift side wrote.

    python3 Benchmarks/python/tokenizers_bench.py TOKENIZER_JSON TEXT_FILE ROUNDS

Prints one JSON line: best seconds for encoding the whole text as one string, best seconds for
encoding it line by line, the number of ids of each, and a checksum of the ids.
"""

import json
import os
import sys
import time

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from tokenizers import Tokenizer  # noqa: E402


def checksum(ids):
    value = 0
    for i in ids:
        value = (value * 31 + i) % 1_000_000_007
    return value


def main():
    tokenizer_path, text_path, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    tok = Tokenizer.from_file(tokenizer_path)
    with open(text_path, encoding="utf-8", newline="") as f:
        text = f.read()
    lines = text.split("\n")

    whole_best, lines_best = float("inf"), float("inf")
    ids, line_ids = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        ids = tok.encode(text, add_special_tokens=False).ids
        whole_best = min(whole_best, time.perf_counter() - start)
        start = time.perf_counter()
        line_ids = [tok.encode(line, add_special_tokens=False).ids for line in lines]
        lines_best = min(lines_best, time.perf_counter() - start)
    flat = [i for l in line_ids for i in l]
    print(json.dumps({
        "bytes": len(text.encode("utf-8")), "whole_seconds": whole_best, "whole_ids": len(ids),
        "whole_checksum": checksum(ids), "lines_seconds": lines_best, "lines_ids": len(flat),
        "lines_checksum": checksum(flat),
    }))


if __name__ == "__main__":
    main()
