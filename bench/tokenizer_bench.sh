#!/usr/bin/env bash
# Tokenizer benchmarks against the named peers, same machine, same run:
#   1. train to vocab 10,000 on the ~20 MB docs corpus, 2 threads: scalelab vs HuggingFace tokenizers
#      (npm tokenizers@0.23.2 via ../shared/bench/hf_bpe_bench.js, time to reach vocab 10,000); peak RSS
#   2. corpus.en, vocab 500: scalelab (best of 5)
#   3. GPT-2 encoding of the docs corpus (specials removed): scalelab 1 and 2 threads vs npm tiktoken
#      (WebAssembly, 1 thread), ids compared
#   4. HF tokenizers loads scalelab's tokenizer.json and encodes identically (bench/hf_compat.js)
#   5. cl100k_base and o200k_base encoding (tests/data/tokenizers' rank files) of the same text: scalelab
#      1 thread vs npm tiktoken (1 thread), ids compared
# Needs: node/npm, and `npm install tokenizers@0.23.2 tiktoken` in /tmp/hf-tok (the script does it).
# Usage: bench/tokenizer_bench.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
S="$build/bin/scalelab"
shared="$root/../shared"
work=/tmp/scalelab-tokbench
mkdir -p "$work"
[ -f "$work/docs20.txt" ] || bash "$shared/bench/make_docs_corpus.sh" "$work" >/dev/null
if [ ! -d /tmp/hf-tok/node_modules/tokenizers ] || [ ! -d /tmp/hf-tok/node_modules/tiktoken ]; then
  (mkdir -p /tmp/hf-tok && cd /tmp/hf-tok && npm init -y >/dev/null && npm install tokenizers@0.23.2 tiktoken >/dev/null)
fi
rss() {  # peak VmHWM (KB) over processes matching $1 while $2… runs
  local pat=$1; shift
  "$@" > "$work/last.out" 2>&1 &
  local pid=$! best=0 h
  while kill -0 $pid 2>/dev/null; do
    for p in $(pgrep -f "$pat"); do
      h=$(awk '/VmHWM/ {print $2}' /proc/$p/status 2>/dev/null || true)
      [ -n "$h" ] && [ "$h" -gt "$best" ] && best=$h
    done
    sleep 0.05
  done
  wait $pid
  echo $best
}
echo "== 1. BPE training, vocab 10,000, 2 threads, $(du -h "$work/docs20.txt" | cut -f1) docs corpus"
for i in 1 2 3; do
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$S" tokenizer train --quiet --threads 2 --vocab-size 10000 \
    --input "$work/docs20.txt" --out "$work/tok10k" > /dev/null
  echo "scalelab run $i: wall $(cut -d' ' -f1 "$work/time.txt") s, peak RSS $(cut -d' ' -f2 "$work/time.txt") KB"
done
hf_rss=$(rss "hf_bpe_bench.js" node "$shared/bench/hf_bpe_bench.js" --corpus "$work/docs20.txt" --threads 2 \
  --target-vocab 10000)
node "$shared/bench/hf_bpe_bench.js" --corpus "$work/docs20.txt" --threads 2 --phases --target-vocab 10000 \
  > "$work/hf.json"
python3 -c "import json; j=json.load(open('$work/hf.json')); print(f\"HF tokenizers: time to vocab 10,000 {j['time_to_target_vocab_s']} s (full {j['trainer_vocab_size']} in {j['train_wall_s']} s), peak RSS $hf_rss KB\")"
echo "== 2. corpus.en, vocab 500"
for i in 1 2 3 4 5; do
  /usr/bin/time -f "%e" -o "$work/t500.txt" "$S" tokenizer train --quiet --vocab-size 500 \
    --input "$shared/data/cs336/corpus.en" --out "$work/tok500" > /dev/null
  cat "$work/t500.txt"
done | sort -n | head -1 | sed 's/^/scalelab best of 5 (whole process): /; s/$/ s/'
echo "== 3. GPT-2 encoding"
mkdir -p "$work/gpt2"
cp "$shared/data/cs336/gpt2_vocab.json" "$work/gpt2/vocab.json"
cp "$shared/data/cs336/gpt2_merges.txt" "$work/gpt2/merges.txt"
sed 's/<|endoftext|>//' "$work/docs20.txt" > "$work/docs20_plain.txt"
for t in 1 2; do
  for i in 1 2 3; do
    "$S" tokenizer encode --quiet --threads $t --tokenizer "$work/gpt2" --input "$work/docs20_plain.txt" \
      --out "$work/gpt2.bin" | sed "s/^/scalelab $t thread(s): /"
  done
done
node "$root/bench/tiktoken_encode_bench.js" "$work/docs20_plain.txt" --compare "$work/gpt2.bin"
echo "== 4. HF tokenizers loads scalelab's tokenizer.json"
head -c 3000000 "$work/docs20.txt" > "$work/docs3m.txt"
"$S" tokenizer encode --quiet --tokenizer "$work/tok10k" --input "$work/docs3m.txt" --out "$work/docs3m.bin" > /dev/null
node "$root/bench/hf_compat.js" "$work/tok10k/tokenizer.json" "$work/docs3m.txt" "$work/docs3m.bin"
echo "== 5. cl100k_base and o200k_base encoding, 1 thread"
for enc in cl100k_base o200k_base; do
  for i in 1 2 3; do
    "$S" tokenizer encode --quiet --threads 1 --ordinary --tokenizer "$root/tests/data/tokenizers/$enc.tiktoken" \
      --input "$work/docs20_plain.txt" --out "$work/$enc.bin" | sed "s/^/scalelab $enc: /"
  done
  node "$root/bench/tiktoken_encode_bench.js" "$work/docs20_plain.txt" --encoding "$enc" --compare "$work/$enc.bin"
done
