#!/usr/bin/env bash
# Run-to-run noise of examples/h200-sweep.json on the GPU machine: the same 25 runs with training
# seeds 1 and 2 (init and batch order; seed 0 is the example itself), on the same corpus, tokenizer
# and token files. Each run's loss across seeds gives the noise that "same losses" claims (packed vs
# unpacked, kernels on vs off) and IsoFLOP residuals are judged against. Databases and outputs go to
# $OUT. Carry .debs and .bench-data.
source "$(dirname "$0")/gpu_setup.sh"
t0=$(date +%s)
cuda_configure OFF OFF
cuda_build scalelab
echo "build $(( $(date +%s) - t0 )) s"
work=build-cuda/h200
mkdir -p $work
bash .bench-data/make_gpu_corpus.sh $work 400 > /dev/null 2>&1 || { echo "corpus failed"; exit 1; }
cd $work
for s in 1 2; do
  python3 - "$root/examples/h200-sweep.json" $s <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); s = int(sys.argv[2])
c.update(seed=s, out_dir=f"seed{s}", targets=[3.2e16], bootstrap_samples=0)
if s > 1:  # the first seed's data: same split, tokenizer and token files
    del c["corpus"]
    c.update(train_tokens="seed1/data/train.bin", val_tokens="seed1/data/val.bin", tokenizer="seed1/tokenizer")
json.dump(c, open(f"seed{s}.json", "w"))
PY
  start=$(date +%s)
  timeout -s INT 260 ../bin/scalelab sweep --config seed$s.json > "$out/seed$s.out" 2> "$out/seed$s.err"
  echo "seed $s: exit $? after $(( $(date +%s) - start )) s"
  cp seed$s/runs.db "$out/seed$s.db"
done
echo "total $(( $(date +%s) - t0 )) s"
