#!/usr/bin/env bash
# Captures the machine-readable outputs of the analysis and planning commands on the bundled
# examples, so that a refactor can be checked to change nothing: run it with the old and the new
# binary into two directories and `diff -r` them. tests/cli/golden_test.cpp runs it on every test
# run and compares with tests/data/golden/ (numbers to 1e-5 relative); after an intended change of
# output, refresh that directory with this script and say why in the commit.
#   bench/golden_outputs.sh BUILD_BIN_SCALELAB OUT_DIR
# Everything is deterministic: the fit gives the same bits for any thread count (it runs on one
# here anyway); tokenizer training and planning are deterministic.
set -euo pipefail
bin=$(realpath "$1")
out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
out=$(realpath "$out")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
csv=$root/data/chinchilla_paper_runs.csv

"$bin" fit --csv "$csv" --threads 1 --bootstrap 20 --quiet --out law.json --json > "$out/fit.json"
"$bin" fit --csv "$csv" --threads 1 --bootstrap 0 --loss huber --holdout largest-budget --quiet \
  --out '' --json > "$out/fit_huber_holdout.json"
"$bin" allocate --params law.json --C 1e21,5.76e23 --json > "$out/allocate.json"
"$bin" predict --params law.json --N 7e10 --D 1.4e12 --json > "$out/predict.json"
"$bin" isoflop --csv "$csv" --skip-small --json 2> /dev/null > "$out/isoflop.json"
"$bin" runs import --db runs.db "$csv" > /dev/null 2>&1
"$bin" isoflop --db runs.db --skip-small --targets 1e22 --json 2> /dev/null > "$out/isoflop_db.json"
"$bin" fit --db runs.db --threads 1 --bootstrap 10 --quiet --out '' --json > "$out/fit_db.json"
"$bin" design --db runs.db --target 1e21 --json > "$out/design.json"
for p in gpt2-small cs336-tinystories llama-7b; do
  "$bin" account --preset "$p" --json > "$out/account_$p.json"
done
"$bin" account --d-model 512 --n-layers 8 --n-heads 8 --vocab-size 8192 --context-length 512 \
  --gpu h100-sxm --tokens 1e9 --json > "$out/account_flags.json"
cat > sweep.json <<JSON
{"corpus": ["$root/data/tinyshakespeare.txt"], "vocab_size": 512, "budget_min": 6e11,
 "budget_max": 2.4e12, "budget_count": 3, "models_per_budget": 4, "n_spread": 2,
 "architecture": {"context_length": 64, "head_dim": 32, "multiple": 32, "aspect_ratio": 32,
                  "min_layers": 1, "tied_embeddings": true},
 "batch_rule": "constant", "batch_tokens": 2048, "lr_rule": "constant", "lr": 0.03, "targets": [1e14], "device": "cpu", "device_tflops": 0.05,
 "size_convention": "total",
 "out_dir": "plan"}
JSON
"$bin" sweep plan --config sweep.json > "$out/sweep_plan.txt" 2> /dev/null
"$bin" sweep plan --config sweep.json --vocab-size 300 --budget-min 1e12 --budget-max 4e12 \
  --models-per-budget 3 --lr-rule kaplan --out plan2 > "$out/sweep_plan_flags.txt" 2> /dev/null
# Wall-clock fields are the only non-deterministic values; paths are made relative to the checkout
# so that the outputs compare across clones.
sed -i -E 's/"seconds": [-0-9.e+]+/"seconds": 0/' "$out"/*.json
sed -i "s|$root/||g" "$out"/*
echo "golden outputs in $out:" && ls "$out"
