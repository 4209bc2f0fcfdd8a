#!/usr/bin/env bash
# Issue 14's transformers check on the GPU machine (it has transformers and safetensors in
# /opt/torch/.venv), one command: builds scalelab and bench/hf_logits, trains a small grouped-query
# model on Tiny Shakespeare (tokenizer of 512), exports it in fp32 and bf16 (`scalelab export`),
# writes scalelab's logits and greedy ids (hf_logits) and runs bench/hf_check.py on both exports
# (bf16 weights: the reference is the same checkpoint re-imported from the bf16 export, so both
# sides compute with the rounded weights). Lines last; log in $OUT/hf.log.
source "$(dirname "$0")/gpu_setup.sh"
t0=$(date +%s)
[ -x "$root/build-cuda/bin/hf_logits" ] || { cuda_configure ON ON; cuda_build scalelab hf_logits; }
bin=$root/build-cuda/bin
py=/opt/torch/.venv/bin/python
w=$root/build-cuda/hfcheck && rm -rf "$w" && mkdir -p "$w" && cd "$w"
log=$out/hf.log
head -c 400000 "$root/data/tinyshakespeare.txt" > t.txt
{
  $bin/scalelab tokenizer train --input t.txt --vocab-size 512 --out tok --quiet
  $bin/scalelab tokenizer encode --tokenizer tok --input t.txt --out t.bin --quiet
  $bin/scalelab train --train-data t.bin --tokenizer tok --out run --context-length 128 --d-model 128 \
    --n-layers 2 --n-heads 4 --n-kv-heads 2 --batch-size 16 --max-steps 200 --lr-max 3e-3 \
    --device cuda --precision bf16-mixed --quiet true
  $bin/scalelab export --checkpoint run --out hf32
  $bin/scalelab export --checkpoint run --out hf16 --dtype bf16
  $bin/scalelab import-hf hf16 --out run16
  $bin/hf_logits --checkpoint run --data t.bin --out ref32.safetensors
  $bin/hf_logits --checkpoint run16 --data t.bin --out ref16.safetensors
} >> "$log" 2>&1 || { echo "set-up failed"; tail -20 "$log"; exit 1; }
lines=()
for v in 32 16; do
  r=$(timeout 300 $py "$root/bench/hf_check.py" hf$v ref$v.safetensors 2>>"$log")
  rows=$?
  echo "$r" >> "$log"
  lines+=("== export $([ $v = 32 ] && echo fp32 || echo bf16) (exit $rows)" "$r")
done
echo "== transformers check ($(( $(date +%s) - t0 )) s)"
printf '%s\n' "${lines[@]}"
