#!/usr/bin/env bash
# Runs examples/h200-sweep.json (or CONFIG=examples/…json) on the GPU machine: unpacks the Debian dev packages carried in
# .debs/ (see DEVELOPERS.md), builds the `cuda` preset's scalelab, builds the Python corpus py.txt
# with ../shared/bench/make_gpu_corpus.sh (carried as .bench-data/make_gpu_corpus.sh: nothing can be
# downloaded there), then runs the sweep and, with VERIFY=1, `--verify` (the recommended model at
# 10 × the largest budget). Outputs (database, recommendation, verify.json, logs) go to $OUT. The
# sweep lives in build-cuda/h200/ (kept between calls while the machine stays warm) and is stopped
# with SIGINT before LIMIT seconds (default 540), so a second call resumes it where it stopped.
# A sweep longer than one device session resumes on a fresh machine from a carried database:
# RESUME_DB=path/runs.db seeds the sweep's out_dir with it when that has none (the same corpus gives
# the same tokenizer, data and plan, so its finished runs are kept; runs that were in flight restart).
# Verification runs are not in the database: their config.json, result.json and metrics.jsonl come
# back as $OUT/verify-runs.tar.gz (one folder per run), and RESUME_VERIFY=DIR (where it was
# unpacked) puts them back, so a finished one is read, not trained again: a verification longer
# than a device session spans two.
# GPU_TESTS=1 first builds gpu_test and runs its memory-check tests (GPU_TESTS_FILTER).
source "$(dirname "$0")/gpu_setup.sh"
t0=$(date +%s)
limit=${LIMIT:-540}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/env.txt"
if [ "${GPU_TESTS:-0}" = 1 ]; then
  cuda_configure ON OFF
  cuda_build scalelab gpu_test
  build-cuda/bin/gpu_test --gtest_filter="${GPU_TESTS_FILTER:-*Memory*:*Packed*}" > "$out/gpu_test.log" 2>&1
  echo "gpu_test exit $?"; grep -E "OK \]|FAILED|SKIPPED|Failure" "$out/gpu_test.log"
else
  cuda_configure OFF OFF
  cuda_build scalelab
fi
echo "build $(( $(date +%s) - t0 )) s"
config=$root/${CONFIG:-examples/h200-sweep.json}
name=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["out_dir"])' "$config")
work=build-cuda/h200
mkdir -p $work
[ "${SWEEP_FRESH:-0}" = 1 ] && rm -rf "$work/$name"
if [ -n "${RESUME_DB:-}" ] && [ ! -f "$work/$name/runs.db" ]; then
  mkdir -p "$work/$name" && cp "$root/$RESUME_DB" "$work/$name/runs.db"
  echo "resuming from $RESUME_DB"
fi
if [ -n "${RESUME_VERIFY:-}" ]; then
  mkdir -p "$work/$name/runs" && cp -rn "$root/$RESUME_VERIFY"/verify-* "$work/$name/runs/"
  echo "verification runs from $RESUME_VERIFY: $(cd "$root/$RESUME_VERIFY" && echo verify-*)"
fi
bash .bench-data/make_gpu_corpus.sh $work 400 > "$out/corpus.log" 2>&1 || { cat "$out/corpus.log"; exit 1; }
cd $work
flags=()
[ "${VERIFY:-0}" = 1 ] && flags+=(--verify)
flags+=(${SWEEP_FLAGS:-})  # e.g. SWEEP_FLAGS="--retry-failed --runs-per-gpu 1"
start=$(date +%s)
timeout -s INT $(( limit - (start - t0) )) ../bin/scalelab sweep --config "$config" \
  "${flags[@]}" > "$out/sweep.out" 2> "$out/sweep.err"
echo "sweep exit $? after $(( $(date +%s) - start )) s"
# Interrupted, the workers save their checkpoints and exit after the coordinator: wait for them
# (up to 20 s), then copy the database with SQLite's online backup (a plain copy misses what is
# still in its write-ahead log).
for _ in $(seq 20); do pgrep -f "scalelab sweep" > /dev/null || break; sleep 1; done
python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).backup(sqlite3.connect(sys.argv[2]))' \
  "$name/runs.db" "$out/runs.db"
cp "$name"/recommendation.json "$name"/verify.json "$out/" 2>/dev/null
( cd "$name/runs" 2>/dev/null && ls -d verify-* > /dev/null 2>&1 \
  && tar -czf "$out/verify-runs.tar.gz" verify-*/config.json verify-*/result.json verify-*/metrics.jsonl 2>/dev/null )
# The device tool brings back at most 8 files: the set-up logs go in one archive.
( cd "$out" && tar -czf logs.tar.gz --remove-files $(ls configure.log build.log corpus.log env.txt \
  gpu_test.log 2>/dev/null) )
grep -E "warn|error|interrupted|verify" "$out/sweep.err" | tail -20
tail -30 "$out/sweep.out"
