#!/usr/bin/env bash
# Issue 18's owed measurement before `fp8_head` could be on by default: does the FP8 LM head cost
# loss in a longer run on a larger corpus? (Tiny Shakespeare's 300 steps, bench/gpu_speed.sh's
# QUALITY section, over-fit and gave +0.035 nats inside a wide seed spread.) One GPU-machine call:
# builds scalelab, makes py.txt (../shared/bench/make_gpu_corpus.sh, carried as .bench-data), trains
# a tokenizer of VOCAB (default 32768: a GPT-2-sized head, where the FP8 head pays) on its first
# 100 MB, encodes TRAIN_MB (default 300) for training and the corpus' last 4 MB for validation, then
# trains one model (default GPT-2-124M's body: 12 × 768, 12 heads, d_ff 2048, context 1024, batch 32)
# for STEPS (default 800, ≈ 26M tokens, well under one epoch) with the bf16 head and with the FP8 head,
# seeds FIRST_SEED … FIRST_SEED+SEEDS-1 (default 0 … 2), one seed's two runs at a time under a
# private MPS daemon (six GPT-2-sized runs at once ran out of the H200's memory), each run cut at
# LIMIT (default 560) seconds after the start; a run whose result.json an earlier call on the same
# warm machine left is not trained again. Val loss on the whole validation split (~1M tokens) every
# STEPS/4 steps and at the end. Table last (per seed and the means, FP8 − bf16 with its standard error
# from the seeds); each run's log and result.json in $OUT/fp8q.tar.gz.
# Usage (device tool, carrying .debs and .bench-data): bash bench/gpu_fp8_quality.sh
source "$(dirname "$0")/gpu_setup.sh"
t0=$(date +%s)
limit=${LIMIT:-560} steps=${STEPS:-800} seeds=${SEEDS:-3} first=${FIRST_SEED:-0} vocab=${VOCAB:-32768}
cuda_configure OFF OFF
cuda_build scalelab
echo "build $(( $(date +%s) - t0 )) s"
bin=$root/build-cuda/bin/scalelab
work=$root/build-cuda/fp8q
mkdir -p "$work" && cd "$work"
bash "$root/.bench-data/make_gpu_corpus.sh" . 400 > "$out/data.log" 2>&1 || { cat "$out/data.log"; exit 1; }
if [ ! -f val.bin ]; then
  head -c 100000000 py.txt > tok-train.txt
  head -c "${TRAIN_MB:-300}000000" py.txt > train.txt
  tail -c 4000000 py.txt > val.txt
  $bin tokenizer train --input tok-train.txt --vocab-size "$vocab" --out tok --quiet >> "$out/data.log" 2>&1 &&
    $bin tokenizer encode --tokenizer tok --input train.txt --out train.bin --quiet >> "$out/data.log" 2>&1 &&
    $bin tokenizer encode --tokenizer tok --input val.txt --out val.bin --quiet >> "$out/data.log" 2>&1 ||
    { tail -5 "$out/data.log"; exit 1; }
fi
echo "data $(( $(date +%s) - t0 )) s"
left=$(( limit - ($(date +%s) - t0) ))
[ "$left" -gt 60 ] || { echo "LIMIT $limit s: only $left s left after the build and the data"; exit 1; }
mps_start
for seed in $(seq "$first" $(( first + seeds - 1 ))); do
  left=$(( limit - ($(date +%s) - t0) ))
  [ "$left" -gt 30 ] || { echo "LIMIT $limit s reached before seed $seed"; break; }  # timeout 0: no limit
  for fp8 in false true; do
    name=run-$seed-$fp8
    [ -f $name/result.json ] && continue  # done by an earlier call on this warm machine
    cat > $name.json <<JSON
{"model": {"vocab_size": $vocab, "context_length": 1024, "d_model": ${D_MODEL:-768},
  "n_layers": ${LAYERS:-12}, "n_heads": ${HEADS:-12}, "d_ff": ${D_FF:-2048}},
 "train_data": "train.bin", "val_data": "val.bin", "out_dir": "$name", "batch_size": ${BATCH:-32},
 "max_steps": $steps, "lr_max": 1e-3, "lr_min": 1e-4, "eval_interval": $(( steps / 4 )),
 "log_interval": $(( steps / 8 )), "seed": $seed, "device": "cuda",
 "precision": "bf16-mixed", "quiet": true, "fp8_head": $fp8}
JSON
    timeout "$left" "$bin" train --config $name.json > $name.log 2>&1 &
  done
  wait  # one seed's pair at a time: six GPT-2-sized runs at once ran out of the H200's memory
done
mps_stop
tar -czf "$out/fp8q.tar.gz" run-*.log run-*.json run-*/result.json "$out/data.log" 2> /dev/null
rm -f "$out/data.log" "$out/configure.log" "$out/build.log"
echo "== FP8 head against bf16 (${LAYERS:-12} x ${D_MODEL:-768}, vocab $vocab, $steps steps of ${BATCH:-32} x 1024; final val loss on the whole split)"
python3 - "$first" "$seeds" <<'PY'
import json, math, statistics as st, sys
first, seeds = int(sys.argv[1]), int(sys.argv[2])
def loss(seed, fp8):
    try:
        with open(f"run-{seed}-{fp8}/result.json") as f:
            r = json.load(f)
        return r["final_val_loss"], r["steady_tokens_per_second"]
    except (OSError, KeyError, ValueError):
        return math.nan, math.nan  # cut at LIMIT or failed: see its log
print("seed | bf16 head val | FP8 head val | FP8 − bf16 | tok/s bf16 / FP8")
rows = []
for s in range(first, first + seeds):
    (b, tb), (f, tf) = loss(s, "false"), loss(s, "true")
    rows.append((b, f))
    print(f"{s} | {b:.4f} | {f:.4f} | {f - b:+.4f} | {tb:,.0f} / {tf:,.0f}")
ok = [(b, f) for b, f in rows if not (math.isnan(b) or math.isnan(f))]
if len(ok) >= 2:
    d = [f - b for b, f in ok]
    print(f"mean of {len(ok)} | {st.mean(b for b, _ in ok):.4f} | {st.mean(f for _, f in ok):.4f} | "
          f"{st.mean(d):+.4f} ± {st.stdev(d) / math.sqrt(len(d)):.4f} (paired by seed)")
PY
echo "total $(( $(date +%s) - t0 )) s"
