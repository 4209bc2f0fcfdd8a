#!/usr/bin/env bash
# Packed sweeps with and without CUDA MPS (Multi-Process Service), one GPU-machine call: builds
# scalelab, makes the corpus, runs examples/h200-sweep.json packed 4 per GPU (its config) as is,
# then again from a fresh directory with a private MPS control daemon (pipe and log directories
# under /tmp, so only these processes use it; the GPU's compute mode and other settings are not
# touched) and stops the daemon. Prints both wall times and each run's final loss side by side.
# Why: packed runs are separate processes, whose kernels the GPU time-slices; under MPS they share
# the SMs at once, which is what small models need (issue: the sweep at >= 40% of peak).
# Usage (device tool, carrying .debs and .bench-data): bash bench/gpu_mps.sh
source "$(dirname "$0")/gpu_setup.sh"
t0=$(date +%s)
nvidia-smi --query-gpu=name,memory.total,driver_version,compute_mode --format=csv,noheader | tee "$out/env.txt"
mps=$(command -v nvidia-cuda-mps-control || true)
echo "nvidia-cuda-mps-control: ${mps:-absent}"
cuda_configure OFF OFF
cuda_build scalelab
echo "build $(( $(date +%s) - t0 )) s"
config=$root/${CONFIG:-examples/h200-sweep.json}
name=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["out_dir"])' "$config")
work=build-cuda/h200
mkdir -p $work
bash .bench-data/make_gpu_corpus.sh $work 400 > "$out/corpus.log" 2>&1 || { cat "$out/corpus.log"; exit 1; }
cd $work
run_sweep() {  # $1 = label; the sweep's out_dir is renamed to $name-$1 afterwards
  rm -rf "$name" "$name-$1"
  local s=$(date +%s)
  ../bin/scalelab sweep --config "$config" > "$out/sweep-$1.out" 2> "$out/sweep-$1.err"
  echo "$1: sweep exit $? after $(( $(date +%s) - s )) s" | tee -a "$out/summary.txt"
  mv "$name" "$name-$1"
}
run_sweep plain
if mps_start; then
  run_sweep mps
  cp $CUDA_MPS_LOG_DIRECTORY/control.log "$out/mps-control.log" 2>/dev/null
  mps_stop
fi
python3 - "$name" > "$out/losses.txt" <<'PY'
import sqlite3, sys, os
name = sys.argv[1]
def runs(tag):
    p = f"{name}-{tag}/runs.db"
    if not os.path.exists(p): return {}
    c = sqlite3.connect(p)
    return {(b, round(n)): (l, C) for b, n, l, C in c.execute("select budget, N, loss, C from runs")}
a, b = runs("plain"), runs("mps")
print("budget N loss_plain loss_mps")
diffs = []
for k in sorted(a):
    la, lb = a[k][0], b.get(k, (None,))[0]
    print(*k, la, lb)
    if la is not None and lb is not None: diffs.append(abs(la - lb))
print(f"total exact FLOPs {sum(v[1] for v in a.values()):.3e}; runs compared {len(diffs)}, "
      f"max |loss diff| {max(diffs) if diffs else float('nan'):.3g}")
PY
cat "$out/summary.txt"; tail -5 "$out/losses.txt"
( cd "$out" && tar -czf logs.tar.gz --remove-files $(ls configure.log build.log corpus.log env.txt 2>/dev/null) )
