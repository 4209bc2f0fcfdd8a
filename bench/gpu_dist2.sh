#!/usr/bin/env bash
# Issue 17's one command, for a device-tool machine with two GPUs (kind nvidia-h200-x2); carry .debs
# and .bench-data holding docs20.txt (../shared/bench/make_docs_corpus.sh .bench-data) and
# make_gpu_corpus.sh. Builds scalelab (cuda preset), trains a 50,257-token tokenizer on the docs
# corpus and encodes it, then:
#  1. the GPT-2-124M shape (gpt2-small, 1024 context, bf16-mixed, CUDA graphs), global batch
#     2 × BATCH (default 32 per GPU) for STEPS (default 200), seed 0, launched by torchrun
#     --no-python on 1 GPU (nproc 1, batch 2 × BATCH in one micro-batch) and on 2 (nproc 2, BATCH
#     per GPU): steady tokens/s, scaling efficiency (2-GPU tokens/s ÷ 2 × 1-GPU), the largest
#     memory.used nvidia-smi saw on each GPU while it ran, final train and validation loss;
#  2. `scalelab sweep` on examples/h200-sweep.json (its corpus from make_gpu_corpus.sh) on one GPU,
#     then again from scratch with --gpus 0,1: wall time of each and their ratio.
# On a machine with one GPU it runs the 1-GPU half and says what it left out. Table last; logs in
# $OUT/dist2.tar.gz. Usage (device tool): bash bench/gpu_dist2.sh
source "$(dirname "$0")/gpu_setup.sh"
t0=$(date +%s)
steps=${STEPS:-200} batch=${BATCH:-32}
ngpu=$(nvidia-smi --query-gpu=index --format=csv,noheader | wc -l)
echo "GPUs: $ngpu ($(nvidia-smi --query-gpu=name --format=csv,noheader | head -1))"
[ -f "$root/.bench-data/docs20.txt" ] || { echo "carry .bench-data/docs20.txt (make_docs_corpus.sh)"; exit 1; }
cuda_configure OFF OFF
cuda_build scalelab
echo "build $(( $(date +%s) - t0 )) s"
bin=$root/build-cuda/bin/scalelab
torchrun=/opt/torch/.venv/bin/torchrun
w=$root/build-cuda/dist2
mkdir -p "$w" && cd "$w"
if [ ! -f val.bin ]; then
  head -c 18000000 "$root/.bench-data/docs20.txt" > train.txt
  tail -c +18000001 "$root/.bench-data/docs20.txt" > val.txt
  { $bin tokenizer train --input train.txt --vocab-size 50257 --out tok --quiet &&
    $bin tokenizer encode --tokenizer tok --input train.txt --out train.bin --quiet &&
    $bin tokenizer encode --tokenizer tok --input val.txt --out val.bin --quiet; } > data.log 2>&1 ||
    { tail -5 data.log; exit 1; }
fi
echo "data $(( $(date +%s) - t0 )) s"

# 1. Data-parallel scaling.
train() {  # name, nproc, per-rank batch
  local name=$1 n=$2 b=$3
  rm -rf "$name"
  nvidia-smi --query-gpu=index,memory.used --format=csv,noheader,nounits -lms 250 > "$name.mem" &
  local smi=$!
  timeout 240 $torchrun --no-python --nproc-per-node "$n" --master-port 29541 $bin train \
    --train-data train.bin --val-data val.bin --preset gpt2-small --batch-size $(( n * b )) \
    --max-steps "$steps" --log-interval 50 --eval-interval 0 --seed 0 --device cuda \
    --precision bf16-mixed --quiet true --out "$name" > "$name.log" 2>&1
  echo "$name exit $?"
  kill $smi 2> /dev/null; wait $smi 2> /dev/null
}
train gpus1 1 $(( 2 * batch ))
if [ "$ngpu" -ge 2 ]; then
  train gpus2 2 "$batch"
else
  echo "one GPU: the 2-GPU run left out"
fi

# 2. The sweep on one GPU and on two.
sweep_run() {  # name, flags...: the training phase timed from the database (first run claimed to
  local name=$1; shift  # the last one done), as in docs/benchmarks.md's sweep rows
  rm -rf "$name"
  sed "s#\"out_dir\": \"h200-sweep\"#\"out_dir\": \"$name\"#" "$root/examples/h200-sweep.json" > "$name.json"
  $bin sweep plan --config "$name.json" > /dev/null 2> "$name.prep.log"  # tokenizes: not timed
  python3 "$root/bench/sweep_wall.py" "$name/runs.db" > "$name.wall" &
  local poll=$!
  timeout "${SWEEP_LIMIT:-240}" $bin sweep --config "$name.json" "$@" > "$name.log" 2>&1
  echo "$name exit $?"
  sleep 1; kill $poll 2> /dev/null; wait $poll 2> /dev/null
  echo "$name: $(cat "$name.wall")"
}
bash "$root/.bench-data/make_gpu_corpus.sh" . 400 > corpus.log 2>&1 || { tail -3 corpus.log; exit 1; }
sweep_run sweep1
if [ "$ngpu" -ge 2 ]; then
  sweep_run sweep2 --gpus 0,1
else
  echo "one GPU: the --gpus 0,1 sweep left out"
fi

tar -czf "$out/dist2.tar.gz" ./*.log ./*.mem ./*.wall ./*.json gpus*/result.json 2> /dev/null
rm -f "$out/configure.log" "$out/build.log"
echo "== GPT-2-124M shape, global batch $(( 2 * batch )) x 1024, $steps steps on docs20 (torchrun; peak memory.used per GPU from nvidia-smi)"
python3 - "$batch" <<'PY'
import json, math, os, sys
def res(name):
    try:
        return json.load(open(f"{name}/result.json"))
    except (OSError, ValueError):
        return None
def peak(name):
    m = {}
    for line in open(f"{name}.mem") if os.path.exists(f"{name}.mem") else []:
        i, used = (int(x) for x in line.split(","))
        m[i] = max(m.get(i, 0), used)
    return ", ".join(f"GPU {i} {v / 1024:.2f} GiB" for i, v in sorted(m.items()))
rows = {}
print("GPUs | steady tok/s | MFU | peak memory.used | train loss | val loss")
for n in (1, 2):
    r = res(f"gpus{n}")
    if r is None:
        print(f"{n} | not run or failed (see gpus{n}.log)")
        continue
    rows[n] = r
    print(f"{n} | {r['steady_tokens_per_second']:,.0f} | {r['steady_mfu']:.1%} | {peak(f'gpus{n}')} | "
          f"{r['final_train_loss']:.4f} | {r['final_val_loss']:.4f}")
if 1 in rows and 2 in rows:
    e = rows[2]["steady_tokens_per_second"] / (2 * rows[1]["steady_tokens_per_second"])
    print(f"scaling efficiency: {e:.1%} (bar >= 95%)")
PY
echo "== examples/h200-sweep.json: one GPU against --gpus 0,1"
for f in sweep1 sweep2; do [ -s $f.wall ] && echo "$f ($([ $f = sweep1 ] && echo "one GPU" || echo "--gpus 0,1")): $(cat $f.wall)"; done
if [ -s sweep1.wall ] && [ -s sweep2.wall ]; then
  python3 -c "a=float(open('sweep1.wall').read().split()[-2]); b=float(open('sweep2.wall').read().split()[-2]); print(f'2 GPUs / 1 GPU: {b / a:.1%} of the wall time (bar <= 55%)')"
fi
echo "total $(( $(date +%s) - t0 )) s"
