#!/usr/bin/env bash
# Benchmark: the quickstart cold (every stage recomputed) vs warm (every stage cached), in the
# same script, reported as medians and the warm/cold ratio. Needs a build (scripts/setup.sh).
#   scripts/bench_quickstart.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
bin=./build/sinklab
config=configs/quickstart.yaml
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
$bin run $config -q --out "$out/warm" --cache "$out/cache" >/dev/null   # fill the cache

warm=(run $config -q --out "$out/warm" --cache "$out/cache")
cold=(run $config -q --out "$out/cold" --cache "$out/cache" --force all)

if command -v farm-bench >/dev/null; then
  farm-bench -n "$runs" --vs "$bin ${cold[*]}" -- $bin "${warm[@]}"
  exit 0
fi
# Fallback: wall-clock medians with date.
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_runs() {
  for _ in $(seq "$runs"); do
    s=$(date +%s.%N); $bin "$@" >/dev/null; e=$(date +%s.%N)
    echo "$e - $s" | bc -l
  done | median
}
w=$(time_runs "${warm[@]}")
c=$(time_runs "${cold[@]}")
printf 'warm (all cached)  median %.3f s\ncold (all forced)  median %.3f s\nwarm/cold          %.3f\n' "$w" "$c" "$(echo "$w / $c" | bc -l)"
