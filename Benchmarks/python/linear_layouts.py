"""Linear-layer kernels by weight layout, with weights read from memory as in a real forward.

The evidence behind swift-nnsight's choice of layouts (Module.packLinearWeights, ctorch_linear_packed):
the same PyTorch ops the Swift side calls, timed on SmolLM2-135M's shapes with one intra-op thread.

  plain       F.linear(x, W)                 W [out, in] contiguous (MKL; oneDNN repacks per call)
  packed      mkldnn::_linear_pointwise      W in oneDNN's blocked layout (_reorder_linear_weight)
  transposed  F.linear(x, Wt.t())            Wt = W.t().contiguous() (MKL GEMV for one row)

Two groups: the 210 layer weights of SmolLM2's 30 blocks (each read once per pass, 425 MB in
float32), and the 49152 x 576 vocabulary projection (lm_head, three copies in rotation so that
none stays in cache). Best of several passes, ms per pass.

  python3 Benchmarks/python/linear_layouts.py [--rows 1 2 8 16 128] [--dtype float32|bfloat16]
"""
import argparse
import time

import torch


def best_ms(fn, passes=6, per_pass=1):
    fn()
    best = float("inf")
    for _ in range(passes):
        start = time.perf_counter()
        fn()
        best = min(best, (time.perf_counter() - start) / per_pass)
    return best * 1e3


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1, 2, 8, 16, 128])
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    dtype = getattr(torch, args.dtype)
    pack = torch.ops.mkldnn._reorder_linear_weight
    packed_linear = torch.ops.mkldnn._linear_pointwise

    shapes = [(576, 576), (192, 576), (192, 576), (576, 576), (1536, 576), (1536, 576), (576, 1536)]
    layers = [[torch.randn(n, k).to(dtype) for n, k in shapes] for _ in range(30)]
    heads = [torch.randn(49152, 576).to(dtype) for _ in range(3)]
    groups = {"30 blocks (210 weights)": (layers, 1), "lm_head 49152 x 576": ([heads], 3)}

    print(f"torch {torch.__version__}, {args.dtype}, 1 thread; ms per pass, best of 6")
    for name, (weights, per_pass) in groups.items():
        flat = [w for layer in weights for w in layer]
        packed = [pack(w, None) for w in flat]
        transposed = [w.t().contiguous() for w in flat]
        print(f"\n{name}")
        print(f"{'rows':>6} {'plain':>9} {'packed':>9} {'transposed':>11}")
        for rows in args.rows:
            inputs = {k: torch.randn(rows, k).to(dtype) for k in (576, 1536)}
            with torch.no_grad():
                plain_ms = best_ms(lambda: [torch.nn.functional.linear(inputs[w.shape[1]], w) for w in flat],
                                   per_pass=per_pass)
                packed_ms = best_ms(lambda: [packed_linear(inputs[w.shape[1]], p, None, "none", [], "")
                                             for w, p in zip(flat, packed)], per_pass=per_pass)
                transposed_ms = best_ms(lambda: [torch.nn.functional.linear(inputs[t.shape[0]], t.t())
                                                 for t in transposed], per_pass=per_pass)
            print(f"{rows:>6} {plain_ms:>9.2f} {packed_ms:>9.2f} {transposed_ms:>11.2f}")


if __name__ == "__main__":
    main()
