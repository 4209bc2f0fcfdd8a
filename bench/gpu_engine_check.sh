#!/usr/bin/env bash
# Runs on the GPU machine in one command: builds the `cuda` preset, runs the GPU tests, then drives
# the training engine module (libscalelab_engine.so, opened by the CLI with dlopen) through the CLI
# on CUDA: train (bf16-mixed), eval, generate, the demo sweep; and checks that the CLI itself links
# no LibTorch. Prints a short table last; logs go to $OUT.
source "$(dirname "$0")/gpu_setup.sh"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/env.txt"
cuda_configure ON OFF
cuda_build scalelab scalelab_engine_module gpu_test
tail -2 "$out/build.log"
bin=build-cuda/bin
echo "== GPU tests"
$bin/gpu_test > "$out/gpu_test.log" 2>&1; gpu_rc=$?
grep -E "PASSED|FAILED|SKIPPED" "$out/gpu_test.log" | tail -5
echo "== the CLI without LibTorch"
cli_libs=$(ldd $bin/scalelab | wc -l); cli_torch=$(ldd $bin/scalelab | grep -c torch)
module_torch=$(ldd $bin/libscalelab_engine.so | grep -c torch)
echo "scalelab: $cli_libs shared libraries, $cli_torch of LibTorch; engine module: $module_torch of LibTorch"
t0=$(date +%s.%N); for i in $(seq 20); do $bin/scalelab --version > /dev/null; done; t1=$(date +%s.%N)
version_ms=$(python3 -c "print(f'{($t1-$t0)/20*1000:.1f}')")
echo "scalelab --version: $version_ms ms per process (20 runs)"
echo "== train / eval / generate on CUDA through the engine"
w=$(mktemp -d)
$bin/scalelab tokenizer train --input data/tinyshakespeare.txt --vocab-size 512 --out $w/tok > /dev/null 2>&1
$bin/scalelab tokenizer encode --tokenizer $w/tok --input data/tinyshakespeare.txt --out $w/tr.bin > /dev/null 2>&1
$bin/scalelab train --train-data $w/tr.bin --tokenizer $w/tok --vocab-size 512 --d-model 128 \
  --n-layers 2 --n-heads 2 --context-length 128 --batch-size 32 --max-steps 200 --out $w/run \
  --device cuda --precision bf16-mixed --quiet 2>&1 | tee "$out/train.log" | tail -1; train_rc=${PIPESTATUS[0]}
$bin/scalelab eval --checkpoint $w/run --data $w/tr.bin --max-tokens 100000 --device cuda --json \
  > "$out/eval.json" 2>&1; eval_rc=$?
$bin/scalelab generate --checkpoint $w/run --prompt "ROMEO:" --max-new-tokens 24 --device cuda \
  > "$out/generate.txt" 2>&1; gen_rc=$?
cat "$out/eval.json" "$out/generate.txt"
echo "== demo sweep on CUDA"
( time $bin/scalelab demo --out $w/demo --device cuda ) > "$out/demo.log" 2>&1; demo_rc=$?
grep -E "recommendation|held-out|^real" "$out/demo.log"
printf '\n%-34s %s\n' check result
printf '%-34s %s\n' "gpu_test" "exit $gpu_rc" "CLI LibTorch libraries" "$cli_torch (of $cli_libs)" \
  "engine module LibTorch libraries" "$module_torch" "scalelab --version" "$version_ms ms" \
  "train cuda bf16-mixed" "exit $train_rc" "eval cuda" "exit $eval_rc" "generate cuda" "exit $gen_rc" \
  "demo --device cuda" "exit $demo_rc"
