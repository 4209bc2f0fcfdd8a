#!/usr/bin/env bash
# Whole-process start-up of the CLI (which links no LibTorch: the training engine is a module it
# opens only to train, see docs/training.md) and whole-process BPE training against HF tokenizers
# in the same run:
#   1. hyperfine: `scalelab --version`, `scalelab account --preset gpt2-small`
#   2. `scalelab tokenizer train` on the ~20 MB docs corpus to vocab 10,000, 2 threads, whole process
#      (hyperfine, 3 runs) vs HF tokenizers' time to reach vocab 10,000 (npm tokenizers@0.23.2 via
#      ../shared/bench/hf_bpe_bench.js, median of 3; its Node start-up is not counted, in its favour)
# Needs hyperfine (scripts/install-deps.sh), node/npm. Usage: bench/startup_bench.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
S="$build/bin/scalelab"
shared="$root/../shared"
work=/tmp/scalelab-tokbench
mkdir -p "$work"
[ -f "$work/docs20.txt" ] || bash "$shared/bench/make_docs_corpus.sh" "$work" > /dev/null
if [ ! -d /tmp/hf-tok/node_modules/tokenizers ]; then
  (mkdir -p /tmp/hf-tok && cd /tmp/hf-tok && npm init -y > /dev/null && npm install tokenizers@0.23.2 > /dev/null)
fi
echo "== 1. start-up ($(ldd "$S" | wc -l) shared libraries, $(ldd "$S" | grep -c torch || true) of LibTorch)"
hyperfine -N --warmup 5 --runs 100 --export-json "$work/startup.json" \
  "$S --version" "$S account --preset gpt2-small" 2>&1 | grep -E "Benchmark|Time"
echo "== 2. BPE training to vocab 10,000, 2 threads, whole process"
hyperfine -N --warmup 1 --runs 3 --export-json "$work/train.json" \
  "$S tokenizer train --quiet --threads 2 --vocab-size 10000 --input $work/docs20.txt --out $work/tok10k" \
  2>&1 | grep -E "Time|Range"
for i in 1 2 3; do
  node "$shared/bench/hf_bpe_bench.js" --corpus "$work/docs20.txt" --threads 2 --phases \
    --target-vocab 10000 > "$work/hf$i.json"
done
python3 - "$work" <<'PY'
import json, statistics, sys
w = sys.argv[1]
ours = statistics.median(json.load(open(f"{w}/train.json"))["results"][0]["times"])
hf = statistics.median(json.load(open(f"{w}/hf{i}.json"))["time_to_target_vocab_s"] for i in (1, 2, 3))
s = json.load(open(f"{w}/startup.json"))["results"]
print(f"{'measure':44} {'value':>10}")
print(f"{'scalelab --version (mean)':44} {s[0]['mean']*1e3:8.1f} ms")
print(f"{'scalelab account --preset gpt2-small (mean)':44} {s[1]['mean']*1e3:8.1f} ms")
print(f"{'scalelab tokenizer train, whole process':44} {ours:8.3f} s")
print(f"{'HF tokenizers, time to vocab 10,000':44} {hf:8.3f} s")
print(f"{'ratio (HF / scalelab)':44} {hf/ours:8.2f} x")
PY
