#!/usr/bin/env bash
# Why architecture.vocab_multiple / train's vocab_multiple default to 64: the same training step at
# a vocabulary padded to a multiple of 64 and at the tokenizer's exact size, on the GPU machine, in
# one call — the GPT-2-124M shape (50,257 vs 50,304, batch 32 × 1024) and CS336's TinyStories shape
# (10,000 vs 10,048, batch 256 × 256), alternating, twice each. Table last; logs in $OUT.
# Carry .debs.
source "$(dirname "$0")/gpu_setup.sh"
t0=$(date +%s)
cuda_configure ON ON
cuda_build train_bench
echo "build $(( $(date +%s) - t0 )) s"
bin=$root/build-cuda/bin
rows=()
for rep in 1 2; do
  for v in 50257 50304; do
    line=$(timeout 200 $bin/train_bench --shape gpt2-124m --batch 32 --steps 20 --vocab $v 2>&1 |
      tee -a "$out/bench.log" | grep -E "tok/s" | tail -1)
    rows+=("gpt2 b32 vocab $v | $line")
  done
  for v in 10000 10048; do
    line=$(timeout 200 $bin/train_bench --shape tinystories --batch 256 --steps 30 --vocab $v 2>&1 |
      tee -a "$out/bench.log" | grep -E "tok/s" | tail -1)
    rows+=("tinystories b256 vocab $v | $line")
  done
done
echo "== table"
printf '%s\n' "${rows[@]}"
echo "total $(( $(date +%s) - t0 )) s"
rm -f "$out/configure.log"
