#!/usr/bin/env bash
# Installs the Debian packages sinklab needs (only those missing), then configures and builds
# into build/. Safe to run again: a warm rebuild is a few seconds (ninja + ccache).
#   scripts/setup.sh [--tests]     --tests also installs what only the test suite uses
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake ninja-build g++ ccache git pkg-config
  libtorch-dev libopenblas0-openmp          # without OpenBLAS, LibTorch falls back to reference BLAS (~30x slower)
  libyaml-cpp-dev libhdf5-dev libfmt-dev libboost-program-options-dev
  nlohmann-json3-dev libssl-dev libcairo2-dev fonts-dejavu-core libpcre2-dev   # PCRE2: Unicode regex for tokenizers
  zlib1g-dev                                # gzip-compressed calibration data (C4 shards)
  libarchive-dev                            # run archives: sinklab archive pack/verify/unpack
  hamexam                                   # 1,587 real four-choice exam questions for the few-shot example
)
if [[ "${1:-}" == "--tests" ]]; then
  packages+=(catch2 hdf5-tools python3-h5py)  # h5dump and h5py check that our files open elsewhere
  packages+=(slurmctld slurmd slurm-client)   # the Slurm sweep test starts a one-node cluster on localhost
  packages+=(chromium)                        # report.html is loaded and checked in headless Chromium
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 2; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

build_tests=OFF
[[ "${1:-}" == "--tests" ]] && build_tests=ON
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=$build_tests >/dev/null
ninja -C build
