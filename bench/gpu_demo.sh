#!/usr/bin/env bash
# On the device tool's GPU machine: builds scalelab (cuda preset, .debs carried as for gpu_bench.sh)
# and runs `scalelab demo` there (device auto = the GPU, bf16-mixed), timing it.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-/tmp/scalelab-gpu}
mkdir -p "$out"
nvidia-smi --query-gpu=index,name --format=csv,noheader | tee "$out/env.txt"
deps=/opt/deps
if [ ! -d $deps/usr/include/nlohmann ]; then
  mkdir -p $deps
  for f in "$root"/.debs/*.deb; do dpkg -x "$f" $deps; done
fi
export LD_LIBRARY_PATH=$deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
export PKG_CONFIG_PATH=$deps/usr/lib/x86_64-linux-gnu/pkgconfig PKG_CONFIG_SYSROOT_DIR=$deps
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
cd "$root"
cmake --preset cuda -DCMAKE_PREFIX_PATH="$torch_prefix;$deps/usr" -DICU_ROOT=$deps/usr \
  -DSCALELAB_BUILD_TESTS=OFF -DSCALELAB_BUILD_BENCH=OFF \
  -DCMAKE_CXX_FLAGS="-isystem $deps/usr/include" > "$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
cmake --build --preset cuda -j "$(nproc)" --target scalelab > "$out/build.log" 2>&1 \
  || { grep -E "error" "$out/build.log" | head -30; exit 1; }
rm -rf build-cuda/demo
( time build-cuda/bin/scalelab demo --out build-cuda/demo ) > "$out/demo.out" 2> "$out/demo.err"
echo "demo exit $?"
grep -v "^\[.*run [0-9]* (b" "$out/demo.err" | tail -12
tail -10 "$out/demo.out"
