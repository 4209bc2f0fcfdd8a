#!/usr/bin/env bash
# Runs on the GPU machine (PyTorch 2.x + CUDA under /opt/torch/.venv) in one command: unpacks the
# Debian dev packages carried in .debs/ (the machine has none; see DEVELOPERS.md), builds the `cuda`
# preset, runs the GPU tests and the training throughput benchmark, prints a table last.
# Logs go to $OUT (the device tool brings them back).
source "$(dirname "$0")/gpu_setup.sh"
{
  uname -srm; head -2 /etc/os-release; ldd --version | head -1; (g++ --version || c++ --version) | head -1
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python3 -c 'import torch; print("torch", torch.__version__, "cxx11abi", torch.compiled_with_cxx11_abi())'
} 2>&1 | tee "$out/env.txt"
cuda_configure ON ON
grep -E "scalelab|Torch|CUDA" "$out/configure.log" | tail -5
cuda_build scalelab train_bench gpu_test model_test train_test
tail -3 "$out/build.log"
bin=build-cuda/bin
echo "== GPU tests"; $bin/gpu_test 2>&1 | tee "$out/gpu_test.log" | grep -E "OK \]|FAILED|SKIPPED|Failure" 
echo "== model/train tests (CPU paths, LibTorch 2.x)"
$bin/model_test > "$out/model_test.log" 2>&1; tail -1 "$out/model_test.log"
$bin/train_test > "$out/train_test.log" 2>&1
rc=$?
grep -E "OK \]|FAILED|PASSED" "$out/train_test.log" | tail -12
if [ $rc -ne 0 ]; then
  echo "train_test exit $rc: backtrace"
  cuda-gdb -batch -ex run -ex bt --args $bin/train_test > "$out/train_test_gdb.log" 2>&1
  grep -E "^#|signal|RUN" "$out/train_test_gdb.log" | tail -40
fi
# ptxas resource report of scalelab's kernels (registers, spills): the whole of it in $OUT.
grep -E "ptxas" "$out/build.log" > "$out/ptxas.log"
echo "ptxas: $(grep -c 'Used' "$out/ptxas.log") kernels, max registers $(grep -oE 'Used [0-9]+ registers' "$out/ptxas.log" | awk '{print $2}' | sort -n | tail -1), spills: $(grep -oE '[1-9][0-9]* bytes spill' "$out/ptxas.log" | head -3 | tr '\n' ' ')"
echo "== throughput"
{
  for b in 128 256; do timeout 120 $bin/train_bench --shape tinystories --batch $b --steps 30; done
  for b in 16 32 64; do timeout 150 $bin/train_bench --shape gpt2-124m --batch $b --steps 20; done
  # The same step with LibTorch's ops only (scalelab's CUDA kernels off): the kernels' gain.
  timeout 150 $bin/train_bench --shape gpt2-124m --batch 32 --steps 20 --kernels aten
  timeout 200 $bin/train_bench --shape gpt2-124m --batch 32 --steps 10 --breakdown true --profile true
} 2>&1 | tee "$out/bench.log"
