#!/usr/bin/env bash
# On a multi-GPU machine of the device tool: builds scalelab (cuda preset, .debs carried as for
# gpu_bench.sh), runs a tiny sweep with one worker process per GPU (--gpus 0,1,…) and checks that
# every run finished once and that each worker (a distinct pid) trained runs on its own GPU.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-/tmp/scalelab-gpu}
mkdir -p "$out"
nvidia-smi --query-gpu=index,name --format=csv,noheader | tee "$out/env.txt"
n=$(nvidia-smi --query-gpu=index --format=csv,noheader | wc -l)
gpus=$(seq -s, 0 $((n - 1)))
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
sweep=build-cuda/workers-sweep
rm -rf $sweep
cat > "$out/tiny.json" <<JSON
{"corpus": ["data/tinyshakespeare.txt"], "vocab_size": 300, "budgets": [4e10, 8e10, 1.6e11],
 "models_per_budget": 4, "n_spread": 2,
 "architecture": {"context_length": 64, "head_dim": 16, "multiple": 16, "aspect_ratio": 16,
                  "tied_embeddings": true},
 "batch_tokens": 2048, "lr": 0.01, "min_steps": 10, "bootstrap_samples": 50, "targets": [1e13],
 "device": "cuda", "warn_epochs": 50, "out_dir": "$sweep"}
JSON
( time build-cuda/bin/scalelab sweep --config "$out/tiny.json" --gpus "$gpus" ) > "$out/sweep.out" 2> "$out/sweep.err"
echo "sweep exit $? with --gpus $gpus"
grep -E "worker|warn|error" "$out/sweep.err" | grep -v "step " | head -20
tail -8 "$out/sweep.out"
python3 - "$sweep/runs.db" <<'PY'
import json, sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("select status, extra from runs").fetchall()
pids = {}
for status, extra in rows:
    e = json.loads(extra)
    t = e.get("trained_by", {})
    pids.setdefault((t.get("pid"), t.get("cuda_visible_devices")), []).append(e["key"])
print(f"{len(rows)} runs, statuses {sorted({s for s, _ in rows})}, trained by {len(pids)} worker pids:")
for (pid, gpu), keys in pids.items():
    print(f"  pid {pid} on GPU {gpu}: {', '.join(keys)}")
PY
