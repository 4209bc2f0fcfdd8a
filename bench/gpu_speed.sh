#!/usr/bin/env bash
# The training step against torch.compile on the GPU machine, one command (issue 18's bar): builds
# the `cuda` preset, runs the GPU tests (each fused kernel against its LibTorch reference), then
# train_bench on the GPT-2-124M shape (batch 32 × 1024) and CS336's TinyStories shape (batch
# 256 × 256) with scalelab's kernels, with them but without the fused residual add + RMSNorm
# (`--kernels no-norm`: that kernel's gain), and the same model in plain PyTorch with torch.compile
# (../shared/bench/torch_peer_bench.py, carried as .bench-data/torch_peer_bench.py) in the same
# call; `graphs` is `ours` with the step captured as a CUDA graph (what `scalelab train` does by
# default). Table last; logs in $OUT. Carry .debs and .bench-data.
source "$(dirname "$0")/gpu_setup.sh"
t0=$(date +%s)
cuda_configure ON ON
cuda_build scalelab gpu_test train_bench
echo "build $(( $(date +%s) - t0 )) s"
bin=$root/build-cuda/bin
grep -E "ptxas" "$out/build.log" > "$out/ptxas.log"
echo "ptxas: $(grep -c 'Used' "$out/ptxas.log") kernels, max registers $(grep -oE 'Used [0-9]+ registers' "$out/ptxas.log" | awk '{print $2}' | sort -n | tail -1), spills: $(grep -oE '[1-9][0-9]* bytes spill' "$out/ptxas.log" | head -3 | tr '\n' ' ')"
echo "== GPU tests"
timeout 240 $bin/gpu_test > "$out/gpu_test.log" 2>&1
echo "gpu_test exit $?"; grep -E "OK \]|FAILED|SKIPPED|Failure|error|Expected|Which is" "$out/gpu_test.log" | head -40
peer=$root/.bench-data/torch_peer_bench.py
py=/opt/torch/.venv/bin/python
rows=()
run() {  # label, command...
  local label=$1; shift
  local line
  line=$(timeout 200 "$@" 2>&1 | tee -a "$out/bench.log" | grep -E "tok/s" | tail -1)
  rows+=("$label | $line")
}
for k in ours no-norm graphs ours graphs; do
  flags="--kernels $k"
  [ $k = graphs ] && flags="--kernels ours --cuda-graphs true"
  run "gpt2 b32 scalelab $k" $bin/train_bench --shape gpt2-124m --batch 32 --steps 20 $flags
  run "tinystories b256 scalelab $k" $bin/train_bench --shape tinystories --batch 256 --steps 30 $flags
done
run "gpt2 b32 torch.compile" $py "$peer" gpt2-124m 32 20 compile
run "tinystories b256 torch.compile" $py "$peer" tinystories 256 30 compile
for s in "gpt2-124m 32" "tinystories 256"; do
  set -- $s
  timeout 200 $bin/train_bench --shape $1 --batch $2 --steps 10 --profile true >> "$out/profile.log" 2>&1
done
echo "== profiles (ours): top kernels"
grep -A16 "profile:" "$out/profile.log" | cut -c1-130
echo "== table"
printf '%s\n' "${rows[@]}"
echo "total $(( $(date +%s) - t0 )) s"
rm -f "$out/configure.log" "$out/ptxas.log"  # the device tool returns 8 files at most
