#!/usr/bin/env bash
# Issue 15's GPU check, one command on the GPU machine: builds the `cuda` preset (NCCL from the
# wheel's nvidia-nccl headers), runs the GPU tests of the NCCL path (a world of one against the
# plain path, bitwise) and the CPU data-parallel tests (Gloo, where the wheel has its headers),
# then the bar: the GPT-2-124M shape (gpt2-small, batch 32 × 1024, bf16-mixed, CUDA graphs) trained
# plain and launched by torchrun --no-python --nproc-per-node 1 (the data-parallel code: NCCL
# all-reduce of the gradient buckets between the graphs), alternately, REPS times each; steady-state
# tokens/s side by side; then the same without CUDA graphs (eager: the all-reduce is started from
# the gradient hooks during backward, the overlapped path), plain vs torchrun. Random tokens (the
# step's speed does not depend on them). Table last; logs in $OUT. Carry .debs.
source "$(dirname "$0")/gpu_setup.sh"
t0=$(date +%s)
cuda_configure ON OFF
cuda_build scalelab scalelab_engine gpu_test cli_distributed_test
grep -E "c10d backends" "$out/configure.log"
echo "build $(( $(date +%s) - t0 )) s"
bin=$root/build-cuda/bin
echo "== GPU tests (NCCL path, graphs)"
timeout 200 $bin/gpu_test --gtest_filter='Gpu.NcclWorldOfOne*:Gpu.CudaGraphStep*' > "$out/gpu_test.log" 2>&1
echo "gpu_test exit $?"; grep -E "OK \]|FAILED|SKIPPED|Failure|error:|Which is" "$out/gpu_test.log" | head -20
echo "== CPU data-parallel tests"
timeout 200 $bin/cli_distributed_test > "$out/cli_dist.log" 2>&1
echo "cli_distributed_test exit $?"; grep -E "OK \]|FAILED|Failure|error:" "$out/cli_dist.log" | head -20
w=$root/build-cuda/dist && rm -rf "$w" && mkdir -p "$w" && cd "$w"
python3 - <<'PY'
import json, numpy as np
n = 40_000_000
np.random.default_rng(0).integers(0, 50257, n, dtype=np.uint16).tofile("tok.bin")
json.dump({"dtype": "uint16", "count": n, "vocab_size": 50257}, open("tok.bin.json", "w"))
PY
torchrun=/opt/torch/.venv/bin/torchrun
args="--train-data tok.bin --preset gpt2-small --batch-size 32 --max-steps ${STEPS:-150} --log-interval 50
  --device cuda --precision bf16-mixed --quiet true --no-resume --log-level debug"
rows=()
for rep in $(seq "${REPS:-2}"); do
  for mode in plain torchrun plain_eager torchrun_eager; do
    extra=""
    case $mode in *eager) extra="--cuda-graphs false" ;; esac
    if [ "${mode%_eager}" = plain ]; then
      timeout 240 $bin/scalelab train $args $extra --out run-$mode-$rep > $mode-$rep.log 2>&1
    else
      timeout 240 $torchrun --no-python --nproc-per-node 1 --master-port 29533 \
        $bin/scalelab train $args $extra --out run-$mode-$rep > $mode-$rep.log 2>&1
    fi
    echo "$mode $rep exit $?" >> "$out/dist.log"; cat $mode-$rep.log >> "$out/dist.log"
    rows+=("$mode $rep | $(python3 -c "import json; j=json.load(open('run-$mode-$rep/result.json')); print(f\"steady {j['steady_tokens_per_second']:.6g} tok/s, MFU {j['steady_mfu']:.4f}, train loss {j['final_train_loss']:.6f}\")" 2>&1 | tail -1)")
  done
done
grep -h "data parallel" torchrun-1.log | cut -c1-200
echo "== GPT-2-124M shape, batch 32 x 1024: plain vs data-parallel code (NCCL, world size 1)"
printf '%s\n' "${rows[@]}"
python3 - <<'PY'
import json, glob
def rate(mode):
    v = [json.load(open(f))["steady_tokens_per_second"] for f in sorted(glob.glob(f"run-{mode}-*/result.json"))]
    return sum(v) / len(v) if v else float("nan")
for a, b, what in (("plain", "torchrun", "CUDA graphs, all-reduce between the graphs"),
                  ("plain_eager", "torchrun_eager", "eager, all-reduce started from the gradient hooks")):
    p, d = rate(a), rate(b)
    print(f"{what}: mean plain {p:.6g} tok/s, data-parallel {d:.6g} tok/s: the data-parallel code adds {100 * (p / d - 1):.2f}% to the step time")
PY
echo "total $(( $(date +%s) - t0 )) s"
rm -f "$out/configure.log"
