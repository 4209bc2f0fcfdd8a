#!/usr/bin/env bash
# Runs examples/h100-sweep.json on the GPU machine in one command: unpacks the Debian dev packages
# carried in .debs/ (see DEVELOPERS.md), builds the `cuda` preset's scalelab, runs the sweep on the
# docs corpus carried in .bench-data/docs20.txt (../shared/bench/make_docs_corpus.sh), and copies
# the report, the run database and the logs to $OUT. The sweep directory lives in build-cuda/
# (kept between calls), so running this again resumes an unfinished sweep.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-/tmp/scalelab-gpu}
mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/env.txt"
deps=/opt/deps
if [ ! -d $deps/usr/include/nlohmann ]; then
  mkdir -p $deps
  for f in "$root"/.debs/*.deb; do dpkg -x "$f" $deps; done
fi
export LD_LIBRARY_PATH=$deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
export PKG_CONFIG_PATH=$deps/usr/lib/x86_64-linux-gnu/pkgconfig PKG_CONFIG_SYSROOT_DIR=$deps
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
cd "$root"
cmake --preset cuda -DCMAKE_PREFIX_PATH="$torch_prefix;$deps/usr" -DICU_ROOT=$deps/usr \
  -DSCALELAB_BUILD_TESTS=ON -DSCALELAB_BUILD_BENCH=OFF \
  -DCMAKE_CXX_FLAGS="-isystem $deps/usr/include" > "$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
( time cmake --build --preset cuda -j "$(nproc)" --target scalelab gpu_test ) > "$out/build.log" 2>&1 \
  || { grep -E "error" "$out/build.log" | head -30; tail -20 "$out/build.log"; exit 1; }
tail -3 "$out/build.log"
echo "== GPU tests"; build-cuda/bin/gpu_test 2>&1 | tee "$out/gpu_test.log" | grep -E "OK \]|FAILED|SKIPPED|Failure|fp32 "
sweep=build-cuda/h100-sweep
[ "${SWEEP_FRESH:-0}" = 1 ] && rm -rf $sweep
start=$(date +%s)
( time build-cuda/bin/scalelab sweep --config examples/h100-sweep.json \
    --corpus .bench-data/docs20.txt --out $sweep ) > "$out/sweep.out" 2> "$out/sweep.err"
rc=$?
echo "sweep exit $rc after $(( $(date +%s) - start )) s"
mkdir -p "$out/h100-sweep"
cp -r $sweep/report $sweep/runs.db $sweep/sweep.json $sweep/recommendation.json "$out/h100-sweep/" 2>/dev/null
grep -v "step \|model:\|train:" "$out/sweep.err" | tail -40
cat "$out/sweep.out"
