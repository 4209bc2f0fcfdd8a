#!/usr/bin/env bash
# Issue 18's open question, one GPU-machine call: do several runs of the sweep's *larger* shapes
# packed on one GPU under MPS beat one run alone? (The 40%-of-peak sweep bar needs that: alone, no
# implementation measured exceeds 34–37% MFU on those shapes, and they carry most of a sweep's
# FLOPs.) Builds train_bench, starts a private MPS daemon (gpu_setup.sh's mps_start), then for each shape
# of SHAPES (default "9x576 6x352 3x160": L layers × width, the H200 sweeps' family) at BATCH
# sequences of 256 tokens (default 256: the issue's 65,536-token batch) runs 1 and then K (KS,
# default "2 4") train_bench processes at once, CUDA graphs on, STEPS timed steps each (default
# 300). The processes start together and warm up alike, so their timed windows overlap: aggregate
# tok/s and MFU are their sums. Table last; every process's line in $OUT/pack.log.
# Usage (device tool, carrying .debs): bash bench/gpu_pack.sh
source "$(dirname "$0")/gpu_setup.sh"
t0=$(date +%s)
cuda_configure OFF ON
cuda_build train_bench
echo "build $(( $(date +%s) - t0 )) s"
bin=$root/build-cuda/bin/train_bench
mps_start
tmp=$(mktemp -d)
rows=("shape | processes | aggregate tok/s | aggregate MFU | per process tok/s")
for shape in ${SHAPES:-9x576 6x352 3x160}; do
  for k in 1 ${KS:-2 4}; do
    for i in $(seq "$k"); do
      timeout 300 "$bin" --shape "$shape" --batch "${BATCH:-256}" --steps "${STEPS:-300}" \
        --cuda-graphs true > "$tmp/$i.log" 2>&1 &
    done
    wait
    tps=() mfu=()
    for i in $(seq "$k"); do
      echo "== $shape, $k at once, process $i" >> "$out/pack.log"
      cat "$tmp/$i.log" >> "$out/pack.log"
      tps+=("$(grep -oE '[0-9]+ tok/s' "$tmp/$i.log" | head -1 | cut -d' ' -f1)")
      mfu+=("$(grep -oE 'MFU [0-9.]+%' "$tmp/$i.log" | head -1 | grep -oE '[0-9.]+')")
    done
    rows+=("$shape | $k | $(printf '%s\n' "${tps[@]}" | awk '{s += $1} END {printf "%.0f", s}') | $(printf '%s\n' "${mfu[@]}" | awk '{s += $1} END {printf "%.1f%%", s}') | ${tps[*]}")
  done
done
mps_stop
rm -rf "$tmp" "$out/configure.log"
echo "== table (BATCH ${BATCH:-256} x 256, STEPS ${STEPS:-300})"
printf '%s\n' "${rows[@]}"
echo "total $(( $(date +%s) - t0 )) s"
