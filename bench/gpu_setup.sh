# Sourced by the bench/gpu_*.sh scripts, on the device tool's GPU machine (PyTorch 2.x + CUDA, none of
# our Debian dev packages): sets `root` (the repository, also the working directory) and `out` ($OUT,
# where logs go), unpacks the packages carried in .debs/ (DEVELOPERS.md) into /opt/deps once, points
# the library and pkg-config paths there, and defines
#   cuda_configure TESTS BENCH   cmake --preset cuda against the wheel's LibTorch (ON/OFF each)
#   cuda_build TARGET...         build those targets, timed
#   mps_start                    a private CUDA MPS control daemon (pipe and log directories under
#                                /tmp/scalelab-mps, so only the processes started after it use it; the
#                                GPU's compute mode is not touched); returns 1 where the machine has none
#   mps_stop                     quits that daemon, if one was started
# The first two log to $out and end the calling script with the log's errors when they fail.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${OUT:-/tmp/scalelab-gpu}
mkdir -p "$out"
deps=/opt/deps
if [ ! -d $deps/usr/include/nlohmann ]; then
  mkdir -p $deps
  for f in "$root"/.debs/*.deb; do dpkg -x "$f" $deps; done
fi
export LD_LIBRARY_PATH=$deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
export PKG_CONFIG_PATH=$deps/usr/lib/x86_64-linux-gnu/pkgconfig PKG_CONFIG_SYSROOT_DIR=$deps
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
cd "$root"

cuda_configure() {
  cmake --preset cuda -DCMAKE_PREFIX_PATH="$torch_prefix;$deps/usr" -DICU_ROOT=$deps/usr \
    -DSCALELAB_BUILD_TESTS="$1" -DSCALELAB_BUILD_BENCH="$2" \
    -DCMAKE_CXX_FLAGS="-isystem $deps/usr/include" > "$out/configure.log" 2>&1 \
    || { tail -30 "$out/configure.log"; exit 1; }
}

cuda_build() {
  ( time cmake --build --preset cuda -j "$(nproc)" --target "$@" ) > "$out/build.log" 2>&1 \
    || { grep -E "error" "$out/build.log" | head -30; tail -20 "$out/build.log"; exit 1; }
}

mps_start() {
  if ! command -v nvidia-cuda-mps-control > /dev/null; then
    echo "nvidia-cuda-mps-control absent: the processes time-slice the GPU"
    return 1
  fi
  export CUDA_MPS_PIPE_DIRECTORY=/tmp/scalelab-mps/pipe CUDA_MPS_LOG_DIRECTORY=/tmp/scalelab-mps/log
  mkdir -p $CUDA_MPS_PIPE_DIRECTORY $CUDA_MPS_LOG_DIRECTORY
  nvidia-cuda-mps-control -d && echo "MPS daemon started"
}

mps_stop() {
  [ -n "${CUDA_MPS_PIPE_DIRECTORY:-}" ] || return 0
  echo quit | nvidia-cuda-mps-control
  unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
}
