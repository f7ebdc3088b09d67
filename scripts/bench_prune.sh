#!/usr/bin/env bash
# Benchmark: the four pruning methods at 50% on CPU (or cuda), in one process each:
#  1. one synthetic layer (default 1024x1024; pass e.g. 4096x4096 on a GPU machine): seconds,
#     output error, and OATS exact vs randomized SVD as ratios (bench_prune);
#  2. the whole of tiny-phi3 (6 blocks x 7 maps) per method through the prune stage: seconds
#     per block and in total, from the stage's own timings.
#  With --reference-sparsegpt DIR and/or --reference-oats DIR (a user's checkouts of
#  IST-DASLab/sparsegpt and stephenqz/OATS), the same layer, byte for byte, is also pruned by the
#  reference functions in Debian's python3-torch (scripts/bench_prune_reference.py), and both are
#  printed side by side with the ratio reference seconds / sinklab seconds.
#   scripts/bench_prune.sh [--reference-sparsegpt DIR] [--reference-oats DIR] [OUTxIN] [OATS_ITERATIONS] [cpu|cuda] [SHARED_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
ref_sparsegpt="" ref_oats="" positional=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --reference-sparsegpt) ref_sparsegpt=$(realpath "$2"); shift 2 ;;
    --reference-oats) ref_oats=$(realpath "$2"); shift 2 ;;
    *) positional+=("$1"); shift ;;
  esac
done
set -- "${positional[@]+"${positional[@]}"}"
shape=${1:-1024x1024}; iterations=${2:-20}; device=${3:-cpu}; shared=${4:-${SINKLAB_SHARED:-../shared}}
if [[ -n "$ref_sparsegpt$ref_oats" ]]; then
  [[ -z "$ref_sparsegpt" || -f "$ref_sparsegpt/sparsegpt.py" ]] || { echo "no sparsegpt.py in $ref_sparsegpt (a checkout of IST-DASLab/sparsegpt?)" >&2; exit 2; }
  [[ -z "$ref_oats" || -f "$ref_oats/OATS/prune_oats.py" ]] || { echo "no OATS/prune_oats.py in $ref_oats (a checkout of stephenqz/OATS?)" >&2; exit 2; }
  /usr/bin/python3 -c 'import torch' 2>/dev/null || { echo "the reference code needs Debian's python3-torch (apt-get install python3-torch)" >&2; exit 2; }
  layer_dir=$(mktemp -d)
  SINKLAB_BENCH_LAYER_DIR=$layer_dir ./build/bench_prune "$shape" "$iterations" "$device" | tee "$layer_dir/sinklab.txt"
  echo
  args=()
  [[ -n "$ref_sparsegpt" ]] && args+=(--sparsegpt "$ref_sparsegpt")
  [[ -n "$ref_oats" ]] && args+=(--oats "$ref_oats")
  /usr/bin/python3 scripts/bench_prune_reference.py "$layer_dir" "$shape" "$iterations" --sinklab "$layer_dir/sinklab.txt" "${args[@]}"
  rm -rf "$layer_dir"
else
  ./build/bench_prune "$shape" "$iterations" "$device"
fi
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
