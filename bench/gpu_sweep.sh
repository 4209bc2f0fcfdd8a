#!/usr/bin/env bash
# Runs examples/h100-sweep.json on the GPU machine in one command: unpacks the Debian dev packages
# carried in .debs/ (see DEVELOPERS.md), builds the `cuda` preset's scalelab, runs the sweep on the
# docs corpus carried in .bench-data/docs20.txt (../shared/bench/make_docs_corpus.sh), and copies
# the report, the run database and the logs to $OUT. The sweep directory lives in build-cuda/
# (kept between calls), so running this again resumes an unfinished sweep.
source "$(dirname "$0")/gpu_setup.sh"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/env.txt"
cuda_configure ON OFF
cuda_build scalelab gpu_test
tail -3 "$out/build.log"
echo "== GPU tests"; build-cuda/bin/gpu_test 2>&1 | tee "$out/gpu_test.log" | grep -E "OK \]|FAILED|SKIPPED|Failure|fp32 "
sweep=build-cuda/h100-sweep
[ "${SWEEP_FRESH:-0}" = 1 ] && rm -rf $sweep
start=$(date +%s)
( time build-cuda/bin/scalelab sweep --config examples/h100-sweep.json \
    --corpus .bench-data/docs20.txt --out $sweep ) > "$out/sweep.out" 2> "$out/sweep.err"
rc=$?
echo "sweep exit $rc after $(( $(date +%s) - start )) s"
mkdir -p "$out/h100-sweep"
cp -r $sweep/report $sweep/runs.db $sweep/sweep.json $sweep/recommendation.json "$out/h100-sweep/" 2>/dev/null
grep -v "step \|model:\|train:" "$out/sweep.err" | tail -40
cat "$out/sweep.out"
