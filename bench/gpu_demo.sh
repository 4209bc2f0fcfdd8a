#!/usr/bin/env bash
# On the device tool's GPU machine: builds scalelab (cuda preset, .debs carried as for gpu_bench.sh)
# and runs `scalelab demo` there (device auto = the GPU, bf16-mixed), timing it.
source "$(dirname "$0")/gpu_setup.sh"
nvidia-smi --query-gpu=index,name --format=csv,noheader | tee "$out/env.txt"
cuda_configure OFF OFF
cuda_build scalelab
rm -rf build-cuda/demo
( time build-cuda/bin/scalelab demo --out build-cuda/demo ) > "$out/demo.out" 2> "$out/demo.err"
echo "demo exit $?"
grep -v "^\[.*run [0-9]* (b" "$out/demo.err" | tail -12
tail -10 "$out/demo.out"
