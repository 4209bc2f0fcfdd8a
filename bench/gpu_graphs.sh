#!/usr/bin/env bash
# CUDA graphs on the GPU machine, one command: builds scalelab and gpu_test (`cuda` preset), runs the
# GPU tests (CudaGraphStepMatchesEagerStep compares a graphed run with an eager one), then trains
# small sweep-sized shapes with `scalelab train` (bf16-mixed, random tokens, vocab 8192, context 256)
# with cuda_graphs on and off and prints each run's steady-state tokens/s and MFU (result.json),
# and plain PyTorch on the smallest shape (../shared/bench/torch_peer_bench.py, carried as
# .bench-data/torch_peer_bench.py) as the peer. Table last; logs in $OUT.
source "$(dirname "$0")/gpu_setup.sh"
t0=$(date +%s)
cuda_configure ON OFF
cuda_build scalelab gpu_test
echo "build $(( $(date +%s) - t0 )) s"
bin=$root/build-cuda/bin
echo "== GPU tests"
$bin/gpu_test > "$out/gpu_test.log" 2>&1
echo "gpu_test exit $?"; grep -E "OK \]|FAILED|SKIPPED|Failure|error" "$out/gpu_test.log" | head -30
work=$root/build-cuda/graphs
mkdir -p "$work" && cd "$work"
python3 - <<'PY'
import json, random
random.seed(0)
n = 8_000_000
import array
a = array.array('H', (random.randrange(8192) for _ in range(n)))
open('tok.bin', 'wb').write(a.tobytes())
json.dump({"dtype": "uint16", "count": n, "vocab_size": 8192, "tokenizer_hash": "", "source": "random", "bytes": 0}, open('tok.bin.json', 'w'))
PY
rows=()
# name layers d_model heads d_ff batch steps
while read -r name L d H f B S; do
  for g in false true; do
    cat > cfg.json <<JSON
{"model": {"vocab_size": 8192, "context_length": 256, "d_model": $d, "n_layers": $L, "n_heads": $H, "d_ff": $f},
 "train_data": "tok.bin", "out_dir": "run-$name-$g", "batch_size": $B, "max_steps": $S, "lr_max": 3e-3,
 "log_interval": 100, "device": "cuda", "precision": "bf16-mixed", "quiet": true, "resume": false, "cuda_graphs": $g}
JSON
    timeout 120 $bin/scalelab train --config cfg.json > "$out/train-$name-$g.log" 2>&1 || { echo "train $name $g failed"; tail -5 "$out/train-$name-$g.log"; }
    r=$(python3 -c "import json; j=json.load(open('run-$name-$g/result.json')); print(f\"{j['steady_tokens_per_second']:.4g} {100*j['steady_mfu']:.1f}% {j['final_train_loss']:.4f}\")" 2>/dev/null)
    rows+=("$name graphs=$g $r")
  done
done <<'SHAPES'
4x64 4 64 2 192 256 400
3x160 3 160 5 448 48 600
6x352 6 352 11 960 128 300
8x320 8 320 10 864 256 200
SHAPES
peer=$(timeout 200 /opt/torch/.venv/bin/python "$root/.bench-data/torch_peer_bench.py" 8192,256,64,192,4,2 256 60 compile 2>&1 | tail -1)
peer_cg=$(timeout 200 /opt/torch/.venv/bin/python "$root/.bench-data/torch_peer_bench.py" 8192,256,64,192,4,2 256 60 compile-cg 2>&1 | tail -1)
echo "== table (shape, graphs, steady tok/s, steady MFU, final train loss)"
printf '%s\n' "${rows[@]}"
echo "torch.compile 4x64 b256: $peer"
echo "torch.compile+cudagraphs 4x64 b256: $peer_cg"
echo "total $(( $(date +%s) - t0 )) s"
