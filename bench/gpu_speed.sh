#!/usr/bin/env bash
# The training step against torch.compile on the GPU machine, one command (issue 18's bar): builds
# the `cuda` preset, runs the GPU tests (each fused kernel against its LibTorch reference), then
# train_bench on the GPT-2-124M shape (batch 32 × 1024) and CS336's TinyStories shape (batch
# 256 × 256) with scalelab's kernels (`ours`: the fused LM head + loss included), without the fused
# head (`--kernels no-head`: its gain), with the head's matmuls in FP8 (`fp8`: `--fp8-head true`),
# and the same model in plain PyTorch with torch.compile (../shared/bench/torch_peer_bench.py,
# carried as .bench-data/torch_peer_bench.py) in the same call. Then the FP8 head's quality: the
# same small model trained on Tiny Shakespeare (tokenizer of 4,096) with the bf16 and the FP8 head,
# seeds 0 and 1 each, final validation losses side by side. Table last; logs in $OUT.
# Carry .debs and .bench-data. QUALITY=0 skips the training runs.
source "$(dirname "$0")/gpu_setup.sh"
t0=$(date +%s)
cuda_configure ON ON
cuda_build scalelab gpu_test train_bench hf_logits
echo "build $(( $(date +%s) - t0 )) s"
bin=$root/build-cuda/bin
grep -E "ptxas" "$out/build.log" > "$out/ptxas.log"
echo "ptxas: $(grep -c 'Used' "$out/ptxas.log") kernels, max registers $(grep -oE 'Used [0-9]+ registers' "$out/ptxas.log" | awk '{print $2}' | sort -n | tail -1), spills: $(grep -oE '[1-9][0-9]* bytes spill' "$out/ptxas.log" | head -3 | tr '\n' ' ')"
echo "== GPU tests"
timeout 240 $bin/gpu_test > "$out/gpu_test.log" 2>&1
echo "gpu_test exit $?"; grep -E "PASSED|FAILED|SKIPPED|Failure|error|Expected|Which is|fp8 head|tests ran|Linear|Fp8|Transpose" "$out/gpu_test.log" | head -40
peer=$root/.bench-data/torch_peer_bench.py
py=/opt/torch/.venv/bin/python
rows=()
run() {  # label, command...
  local label=$1; shift
  local line
  line=$(timeout 200 "$@" 2>&1 | tee -a "$out/bench.log" | grep -E "tok/s" | tail -1)
  rows+=("$label | $line")
}
for k in ours no-head fp8 ours fp8; do
  flags="--kernels $k"
  [ $k = fp8 ] && flags="--kernels ours --fp8-head true"
  run "gpt2 b32 scalelab $k" $bin/train_bench --shape gpt2-124m --batch 32 --steps 20 $flags
  run "tinystories b256 scalelab $k" $bin/train_bench --shape tinystories --batch 256 --steps 30 $flags
done
run "gpt2 b32 torch.compile" $py "$peer" gpt2-124m 32 20 compile
run "tinystories b256 torch.compile" $py "$peer" tinystories 256 30 compile
for s in "gpt2-124m 32" "gpt2-124m 32 --fp8-head true" "tinystories 256"; do
  set -- $s
  timeout 200 $bin/train_bench --shape $1 --batch $2 --steps 10 --profile true "${@:3}" >> "$out/profile.log" 2>&1
done
quality=()
if [ "${QUALITY:-1}" = 1 ]; then
  q=$root/build-cuda/fp8q && mkdir -p "$q" && cd "$q"
  src=$root/data/tinyshakespeare.txt
  head -c 1000000 "$src" > train.txt && tail -c +1000001 "$src" > val.txt
  $bin/scalelab tokenizer train --input train.txt --vocab-size 4096 --out tok --quiet > "$out/quality.log" 2>&1
  $bin/scalelab tokenizer encode --tokenizer tok --input train.txt --out train.bin --quiet >> "$out/quality.log" 2>&1
  $bin/scalelab tokenizer encode --tokenizer tok --input val.txt --out val.bin --quiet >> "$out/quality.log" 2>&1
  for seed in 0 1; do
    for fp8 in false true; do
      cat > cfg.json <<JSON
{"model": {"vocab_size": 4096, "context_length": 256, "d_model": 384, "n_layers": 6, "n_heads": 6, "d_ff": 1024},
 "train_data": "train.bin", "val_data": "val.bin", "out_dir": "run-$seed-$fp8", "batch_size": 64, "max_steps": 400,
 "lr_max": 2e-3, "lr_min": 2e-4, "seed": $seed, "device": "cuda", "precision": "bf16-mixed", "quiet": true,
 "resume": false, "fp8_head": $fp8}
JSON
      timeout 150 $bin/scalelab train --config cfg.json >> "$out/quality.log" 2>&1 || echo "train seed $seed fp8 $fp8 failed"
      quality+=("seed $seed fp8_head $fp8 | $(python3 -c "import json; j=json.load(open('run-$seed-$fp8/result.json')); print(f\"val {j['final_val_loss']:.4f} train {j['final_train_loss']:.4f} steady {j['steady_tokens_per_second']:.4g} tok/s\")" 2>&1 | tail -1)")
    done
  done
  cd "$root"
fi
echo "== profiles (ours): top kernels"
grep -A16 "profile:" "$out/profile.log" | cut -c1-130
echo "== FP8 head quality (Tiny Shakespeare, 6x384, 400 steps of 64 x 256)"
printf '%s\n' "${quality[@]}"
echo "== table"
printf '%s\n' "${rows[@]}"
echo "total $(( $(date +%s) - t0 )) s"
rm -f "$out/configure.log" "$out/ptxas.log"  # the device tool returns 8 files at most
