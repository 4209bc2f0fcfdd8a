#!/usr/bin/env bash
# Runs examples/h200-sweep.json on the GPU machine: unpacks the Debian dev packages carried in
# .debs/ (see DEVELOPERS.md), builds the `cuda` preset's scalelab, builds the Python corpus py.txt
# with ../shared/bench/make_gpu_corpus.sh (carried as .bench-data/make_gpu_corpus.sh: nothing can be
# downloaded there), then runs the sweep and, with VERIFY=1, `--verify` (the recommended model at
# 10 × the largest budget). Outputs (database, recommendation, verify.json, logs) go to $OUT. The
# sweep lives in build-cuda/h200/ (kept between calls while the machine stays warm) and is stopped
# with SIGINT before LIMIT seconds (default 540), so a second call resumes it where it stopped.
source "$(dirname "$0")/gpu_setup.sh"
t0=$(date +%s)
limit=${LIMIT:-540}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/env.txt"
cuda_configure OFF OFF
cuda_build scalelab
echo "build $(( $(date +%s) - t0 )) s"
work=build-cuda/h200
mkdir -p $work
[ "${SWEEP_FRESH:-0}" = 1 ] && rm -rf $work/h200-sweep
bash .bench-data/make_gpu_corpus.sh $work 400 > "$out/corpus.log" 2>&1 || { cat "$out/corpus.log"; exit 1; }
cd $work
flags=()
[ "${VERIFY:-0}" = 1 ] && flags+=(--verify)
start=$(date +%s)
timeout -s INT $(( limit - (start - t0) )) ../bin/scalelab sweep --config "$root/examples/h200-sweep.json" \
  "${flags[@]}" > "$out/sweep.out" 2> "$out/sweep.err"
echo "sweep exit $? after $(( $(date +%s) - start )) s"
cp h200-sweep/runs.db h200-sweep/recommendation.json h200-sweep/verify.json "$out/" 2>/dev/null
grep -E "warn|error|interrupted|verify" "$out/sweep.err" | tail -20
tail -30 "$out/sweep.out"
