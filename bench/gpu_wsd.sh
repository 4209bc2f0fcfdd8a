#!/usr/bin/env bash
# Issue 19's evidence in one GPU-machine command: the H200 example in WSD mode
# (examples/h200-sweep-wsd.json, through bench/gpu_sweep.sh: build, corpus, sweep; SWEEP_LIMIT
# seconds, default 420), then bench/wsd_vs_cosine.py in the sweep's directory: full cosine runs at
# the D of three parents and of their branches nearest D/2 and D/4, seeds 0 and 1, 4 at a time.
# Outputs: gpu_sweep.sh's, and $OUT/wsd_vs_cosine.json. Carry .debs and .bench-data.
here=$(cd "$(dirname "$0")" && pwd)
CONFIG=examples/h200-sweep-wsd.json SWEEP_FRESH=${SWEEP_FRESH:-1} LIMIT=${SWEEP_LIMIT:-420} \
  bash "$here/gpu_sweep.sh" || exit 1
source "$here/gpu_setup.sh"
cd build-cuda/h200
t0=$(date +%s)
python3 "$root/bench/wsd_vs_cosine.py" h200-sweep-wsd "$out/wsd_vs_cosine.json" \
  --scalelab "$root/build-cuda/bin/scalelab"
echo "cosine runs $(( $(date +%s) - t0 )) s"
