#!/usr/bin/env bash
# Runs on the GPU machine, inside the bundle scripts/gpu/build.sh made: the transformers
# benchmarks first (their figures in transformers.json), then every check and benchmark of
# nnsight-gpu-check on cuda:0 against this machine's torch libraries. Exit status 0: all passed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
torch_lib=$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
echo "torch: $("$python" -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))')"
"$python" "$here/bench_transformers.py" --out "$here/transformers.json"
cd "$here"
LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ./nnsight-gpu-check \
    --device "${DEVICE:-cuda:0}" --fixtures "$here/fixtures" --reference "$here/transformers.json"
