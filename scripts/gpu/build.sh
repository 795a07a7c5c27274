#!/usr/bin/env bash
# Builds the GPU proof bundle here (no GPU needed): nnsight-gpu-check compiled against the torch
# the GPU machine has (2.11 by default; headers and libraries from the PyPI wheel, unpacked in a
# folder of their own: the system torch this project builds against is not touched), in release,
# with the Swift runtime linked statically, stripped, together with the small fixture models and
# the transformers side. Output: $GPU_BUNDLE (default .build-gpu/bundle), checked to be < 64 MiB.
#
#   scripts/gpu/build.sh                      # torch 2.11.0 from PyPI
#   TORCH_VERSION=2.11.0 TORCH_WHEEL=/path/torch-2.11.0-…whl scripts/gpu/build.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
version=${TORCH_VERSION:-2.11.0}
work=${GPU_BUILD_DIR:-$root/.build-gpu}
torch_dir=$work/torch-$version
bundle=${GPU_BUNDLE:-$work/bundle}
mkdir -p "$work"

# 1. The wheel's headers and libraries, unpacked once (no install: nothing on this machine changes).
if [ ! -f "$torch_dir/torch/include/torch/torch.h" ]; then
    wheel=${TORCH_WHEEL:-}
    if [ -z "$wheel" ]; then
        mkdir -p "$work/wheel"
        python3 -m pip download --no-deps --only-binary=:all: --dest "$work/wheel" "torch==$version"
        wheel=$(ls "$work"/wheel/torch-"$version"*.whl | head -1)
    fi
    rm -rf "$torch_dir" && mkdir -p "$torch_dir"
    python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); [z.extract(n, sys.argv[2]) for n in z.namelist() if n.startswith(("torch/include/", "torch/lib/", "torch/version.py"))]' "$wheel" "$torch_dir"
fi
grep -q "__version__ = '$version" "$torch_dir/torch/version.py" || { echo "$torch_dir is not torch $version" >&2; exit 1; }

# 2. A libtorch.pc for that torch, found first through PKG_CONFIG_PATH (this build only).
mkdir -p "$work/pkgconfig"
cat > "$work/pkgconfig/libtorch.pc" <<PC
prefix=$torch_dir/torch
Name: libtorch
Description: PyTorch C++ library (from the torch $version wheel, for the GPU machine)
Version: $version
Cflags: -I\${prefix}/include -I\${prefix}/include/torch/csrc/api/include
Libs: -L\${prefix}/lib -ltorch -ltorch_cpu -lc10
PC

# 3. The release binary, in a scratch folder of its own so the everyday .build stays on 2.15.
cd "$root"
PKG_CONFIG_PATH="$work/pkgconfig" swift build -c release --scratch-path "$work/scratch" \
    --product nnsight-gpu-check --static-swift-stdlib
binary=$(PKG_CONFIG_PATH="$work/pkgconfig" swift build -c release --scratch-path "$work/scratch" --show-bin-path)/nnsight-gpu-check

# 4. The bundle: binary (stripped), fixtures, the transformers side and the runner.
rm -rf "$bundle" && mkdir -p "$bundle/fixtures"
cp "$binary" "$bundle/nnsight-gpu-check" && strip "$bundle/nnsight-gpu-check"
for model in tiny-gpt2 tiny-llama tiny-llama3 tiny-mistral tiny-qwen2 tiny-gpt-neox; do
    [ -d "Tests/Fixtures/models/$model" ] && cp -r "Tests/Fixtures/models/$model" "$bundle/fixtures/"
done
cp scripts/gpu/run.sh scripts/gpu/bench_transformers.py "$bundle/"
size=$(du -sm "$bundle" | cut -f1)
echo "bundle: $bundle ($size MiB; built against torch $version)"
[ "$size" -lt 64 ] || { echo "the bundle is $size MiB, over the 64 MiB that may be sent" >&2; exit 1; }
