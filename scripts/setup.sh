#!/usr/bin/env bash
# Installs the Debian packages sinklab needs (only those missing), then configures and builds
# into build/. Safe to run again: a warm rebuild is a few seconds (ninja + ccache).
#   scripts/setup.sh [--tests]     --tests also installs what only the test suite uses
#   scripts/setup.sh --deps-only   installs the packages of the build only, builds nothing
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake ninja-build g++ ccache git pkg-config
  libtorch-dev libopenblas0-openmp          # without OpenBLAS, LibTorch falls back to reference BLAS (~30x slower)
  libyaml-cpp-dev libhdf5-dev libfmt-dev libboost-program-options-dev
  nlohmann-json3-dev libssl-dev libcairo2-dev fonts-dejavu-core libpcre2-dev libicu-dev   # tokenizers: Unicode regex, normalization
  zlib1g-dev                                # gzip-compressed calibration data (C4 shards)
  libarchive-dev                            # run archives: sinklab archive pack/verify/unpack
  hamexam                                   # 1,587 real four-choice exam questions for the few-shot example
)
if [[ "${1:-}" == "--tests" ]]; then
  packages+=(catch2 hdf5-tools python3-h5py)  # h5dump and h5py check that our files open elsewhere
  packages+=(slurmctld slurmd slurm-client)   # the Slurm sweep test starts a one-node cluster on localhost
  packages+=(chromium)                        # report.html is loaded and checked in headless Chromium
  # HuggingFace tokenizers' Node binding is the tokenizer conformance reference (Debian's Node.js
  # and npm, unless the machine already has both).
  command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
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

[[ "${1:-}" == "--deps-only" ]] && exit 0

# The tokenizer reference: npm packages pinned by tests/tokenizer/package-lock.json, installed
# outside the checkout. Without the registry the conformance test skips (and fails in CI).
install_tokenizer_reference() {
  local dir=${SINKLAB_NPM_DIR:-$HOME/.cache/sinklab/npm}
  mkdir -p "$dir"
  if ! cmp -s tests/tokenizer/package-lock.json "$dir/package-lock.json" || [[ ! -d "$dir/node_modules/tokenizers" ]]; then
    cp tests/tokenizer/package.json tests/tokenizer/package-lock.json "$dir/"
    echo "setup: installing HuggingFace tokenizers (npm) into $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
      echo "setup: npm could not install the tokenizer reference into $dir (is the npm registry reachable?);" \
           "the tokenizer conformance test will skip" >&2
  fi
}
[[ "${1:-}" == "--tests" ]] && install_tokenizer_reference

build_tests=OFF
[[ "${1:-}" == "--tests" ]] && build_tests=ON
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=$build_tests >/dev/null
ninja -C build
