#!/usr/bin/env bash
# Is issue 19's WSD-vs-cosine gap the schedule or the learning rate? One GPU-machine call: builds
# scalelab, makes the corpus, prepares the H200 WSD example's data (`sweep plan`), then trains the
# nine points of docs/examples/h200-sweep-wsd/wsd_vs_cosine.json (three model sizes × the parent's
# D, D/2, D/4) from scratch as cosine runs and as WSD runs of their own length, at 0.5, 1 and 2 × the
# sweep's peak and final lr, seeds 0 … SEEDS-1 (default 2), JOBS (default 8) at a time under a private
# MPS daemon, shortest runs first, until LIMIT (default 570) seconds after the start. MULTS sets the
# multipliers; WSD_FLAGS adds flags of wsd_vs_cosine.py, e.g. "--cosine-warmup point --points
# branches" (cosine runs with the branch's warmup, branches only). CONFIG and DB name another WSD
# sweep and its database, e.g. CONFIG=examples/h200-sweep-large-wsd.json
# DB=docs/examples/h200-sweep-large-wsd/runs.db WSD_FLAGS="--planned --parents b3-m3,b5-m3,b5-m4 …"
# (its points are planned, not trained: their configs suffice).
# Output: the table (bench/wsd_vs_cosine.py) and $OUT/wsd_lr.json. Carry .debs and .bench-data.
source "$(dirname "$0")/gpu_setup.sh"
t0=$(date +%s)
limit=${LIMIT:-570}
cuda_configure OFF OFF
cuda_build scalelab
echo "build $(( $(date +%s) - t0 )) s"
work=build-cuda/h200
mkdir -p $work
bash .bench-data/make_gpu_corpus.sh $work 400 > "$out/corpus.log" 2>&1 || { cat "$out/corpus.log"; exit 1; }
cd $work
config=$root/${CONFIG:-examples/h200-sweep-wsd.json}
name=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["out_dir"])' "$config")
../bin/scalelab sweep plan --config "$config" > "$out/plan.out" 2>&1 \
  || { tail -5 "$out/plan.out"; exit 1; }
echo "data $(( $(date +%s) - t0 )) s"
mps_start
python3 "$root/bench/wsd_vs_cosine.py" "$name" "$out/wsd_lr.json" \
  --db "$root/${DB:-docs/examples/h200-sweep-wsd/runs.db}" --lr-multipliers "${MULTS:-0.5,1,2}" \
  --schedules cosine,wsd --seeds "${SEEDS:-2}" --jobs "${JOBS:-8}" ${WSD_FLAGS:-} \
  --time-limit $(( limit - ($(date +%s) - t0) )) --scalelab ../bin/scalelab | tee "$out/wsd_lr.md"
mps_stop
grep -l -E "error|Error" "$name"/cosine-check/*.log 2>/dev/null | head -3 | xargs -r tail -n 2
( cd "$out" && tar -czf logs.tar.gz --remove-files configure.log build.log corpus.log plan.out )
echo "total $(( $(date +%s) - t0 )) s"
