#!/usr/bin/env bash
# Installs every Debian package scalelab builds, tests and benchmarks with (Debian 12, as root).
# Idempotent: packages already present are left alone; safe to run again.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build git pkg-config clang-format clang-tidy
  clang libfuzzer-14-dev  # the fuzz preset: libFuzzer harnesses of the input readers (tests/fuzz)
  # libraries
  libtorch-dev          # LibTorch 1.13 (CPU) for src/model and src/train
  libgloo-dev           # headers of c10d's Gloo backend, which Debian's LibTorch links: data-parallel
                        # training on CPUs (train/distributed.h, docs/distributed.md)
  libopenblas0-openmp   # Debian's LibTorch links libblas.so.3; without OpenBLAS that is the reference
                        # BLAS, 14x slower per training step on 2 cores (measured, docs/benchmarks.md)
  libeigen3-dev         # linear algebra for the scaling fits
  liblbfgspp-dev        # L-BFGS for the parametric fit
  nlohmann-json3-dev    # JSON config and outputs
  libcli11-dev          # command line
  libfmt-dev libspdlog-dev
  libsqlite3-dev        # run database
  libpcre2-dev          # cross-check pre-tokenizer (PCRE2 JIT)
  libicu-dev            # Unicode categories for the pre-tokenizer tables
  libgtest-dev libgmock-dev libbenchmark-dev
  # a real one-node Slurm for the tests labelled slurm (tests/slurm: `sweep submit --slurm` as a job
  # array, scancel, resubmit); the sweep's Slurm flow itself needs only sbatch/squeue on PATH
  slurm-wlm munge
  # plots and report checks
  gnuplot-nox
  chromium              # headless screenshot check of the HTML report (tests labelled browser)
  # the Python module (`import scalelab`, python/, docs/python.md) and its pytest suite
  pybind11-dev python3-dev python3-numpy python3-pytest
  python3-venv          # `pip install .` into a venv, tested by python/tests/test_install.py
  python3-pandas        # the tests' pandas round trip (pandas is not a dependency of the module)
  # benchmarks only: the reference implementations that bench/ compares against
  python3-scipy
  hyperfine             # whole-process start-up benchmark (docs/benchmarks.md)
)

if [ "$(id -u)" -ne 0 ]; then
  echo "error: install-deps.sh must run as root (it calls apt-get)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
