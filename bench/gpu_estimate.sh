#!/usr/bin/env bash
# A resumed sweep's time estimate against its real time, on the GPU machine (issue 18: the plan's
# estimate within 20% of the sweep). Builds scalelab (cuda preset; carry .debs and .bench-data with
# make_gpu_corpus.sh), makes py.txt, starts CONFIG (default examples/h200-sweep.json) from scratch
# in a process group of its own, interrupts it as Ctrl-C would (SIGINT to the group) CUT seconds
# (default 60) after its first run is claimed, then runs the same command again: the resumed plan
# estimates what is left from the rates measured per shape on the runs done (docs/sweep.md). Prints
# the first plan's estimate, the resume line, and the resumed command's time from its start to its
# last run done (bench/sweep_wall.py). Logs in $OUT.
source "$(dirname "$0")/gpu_setup.sh"
t0=$(date +%s)
cut=${CUT:-60}
cuda_configure OFF OFF
cuda_build scalelab
echo "build $(( $(date +%s) - t0 )) s"
bin=$root/build-cuda/bin/scalelab
config=$root/${CONFIG:-examples/h200-sweep.json}
name=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["out_dir"])' "$config")
w=$root/build-cuda/estimate
mkdir -p "$w" && cd "$w" && rm -rf "$name"
bash "$root/.bench-data/make_gpu_corpus.sh" . 400 > "$out/corpus.log" 2>&1 || { tail -3 "$out/corpus.log"; exit 1; }
$bin sweep plan --config "$config" > plan.txt 2> "$out/prep.log" || { tail -3 "$out/prep.log"; exit 1; }
setsid $bin sweep --config "$config" > "$out/first.out" 2> "$out/first.err" &
pid=$!
python3 "$root/bench/sweep_wall.py" "$name/runs.db" --until-claimed
sleep "$cut"
kill -INT -- "-$pid"
wait "$pid"
echo "first command: SIGINT after ${cut} s of training, exit $?"
start=$(date +%s.%N)
python3 "$root/bench/sweep_wall.py" "$name/runs.db" --since "$start" > resumed.wall &
poll=$!
$bin sweep --config "$config" > "$out/resumed.out" 2> "$out/resumed.err"
echo "resumed command: exit $?"
sleep 1; kill $poll 2> /dev/null; wait $poll 2> /dev/null
echo "== $(basename "$config"): the estimates against the sweep"
echo "fresh plan: $(grep -oE 'estimated [^;]*' plan.txt | head -1)"
echo "resumed: $(grep -oE 'resuming: .*' "$out/resumed.err" | head -1)"
echo "resumed plan: $(grep -oE 'estimated [^;]*' "$out/resumed.out" | head -1)"
echo "resumed, measured: $(cat resumed.wall) (from the command's start)"
echo "total $(( $(date +%s) - t0 )) s"
