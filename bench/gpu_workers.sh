#!/usr/bin/env bash
# On a multi-GPU machine of the device tool: builds scalelab (cuda preset, .debs carried as for
# gpu_bench.sh), runs a tiny sweep with one worker process per GPU (--gpus 0,1,…) and checks that
# every run finished once and that each worker (a distinct pid) trained runs on its own GPU.
source "$(dirname "$0")/gpu_setup.sh"
nvidia-smi --query-gpu=index,name --format=csv,noheader | tee "$out/env.txt"
n=$(nvidia-smi --query-gpu=index --format=csv,noheader | wc -l)
gpus=$(seq -s, 0 $((n - 1)))
cuda_configure OFF OFF
cuda_build scalelab
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
