#!/usr/bin/env bash
# Benchmark: the four pruning methods at 50% on CPU (or cuda), in one process each:
#  1. one synthetic layer (default 1024x1024; pass e.g. 4096x4096 on a GPU machine): seconds,
#     output error, and OATS exact vs randomized SVD as ratios (bench_prune);
#  2. the whole of tiny-phi3 (6 blocks x 7 maps) per method through the prune stage: seconds
#     per block and in total, from the stage's own timings.
#   scripts/bench_prune.sh [OUTxIN] [OATS_ITERATIONS] [cpu|cuda] [SHARED_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
shape=${1:-1024x1024}; iterations=${2:-20}; device=${3:-cpu}; shared=${4:-${SINKLAB_SHARED:-../shared}}
./build/bench_prune "$shape" "$iterations" "$device"
model=$shared/models/tiny-phi3
[ -f "$model/config.json" ] || { echo "(no tiny-phi3 at $model: whole-model timings skipped)"; exit 0; }
python=""
for p in /usr/bin/python3 python3; do [ -z "$python" ] && $p -c 'import h5py' 2>/dev/null && python=$p; done
[ -n "$python" ] || { echo "python3 with h5py is needed to read the timings (apt-get install python3-h5py)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cat > "$out/prune.yaml" <<YAML
name: bench-prune
device: $device
model: {path: $model}
calibration: {path: /usr/share/common-licenses, samples: 32, seq_len: 256}
variants:
  magnitude: {prune: {method: magnitude}}
  wanda: {prune: {method: wanda}}
  sparsegpt: {prune: {method: sparsegpt, damp: 0.1}}
  oats: {prune: {method: oats, iterations: 80}}
  oats_randomized: {prune: {method: oats, iterations: 80, svd: randomized}}
YAML
./build/sinklab run "$out/prune.yaml" -q --results "$out/results" >/dev/null
$python - "$out/results/bench-prune/latest/run.h5" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], 'r')
print("\ntiny-phi3 (6 blocks, 32 x 256 calibration tokens), seconds")
print(f"{'method':<18} {'per block (median)':>20} {'total':>8} {'mean rel. weight change':>24}")
for v in ['magnitude', 'wanda', 'sparsegpt', 'oats', 'oats_randomized']:
    g = f['prune.' + v]
    b = sorted(g['block_seconds'][:])
    print(f"{v:<18} {b[len(b)//2]:>20.3f} {sum(b):>8.2f} {g['matrices/relative_error'][:].mean():>24.4f}")
PY
