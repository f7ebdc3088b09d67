#!/usr/bin/env bash
# Benchmark: a 3 x 3 OATS sparsity x rank-ratio sweep with --jobs 2, three ways in one script:
#   shared cache, cold   (the first sweep: shared stages such as training run once)
#   shared cache, warm   (the same sweep again: every stage of every point cached)
#   no shared cache      (--no-shared-cache: every point computes everything itself)
# and the ratios against the no-shared baseline. One sweep each: they take minutes.
#   scripts/bench_sweep.sh [toy|tiny-phi3]     (tiny-phi3 needs ../shared)
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-toy}
bin=./build/sinklab
case "$which" in
  toy) args=(configs/examples/toy-wide-pruning.yaml --grid toy_learned.prune.oats.sparsity=0.3,0.5,0.7
             --grid toy_learned.prune.oats.rank_ratio=0.1,0.25,0.4) ;;
  tiny-phi3) args=(configs/examples/tiny-phi3-oats-sweep.yaml) ;;  # the grid is the config's sweep: section
  *) echo "usage: scripts/bench_sweep.sh [toy|tiny-phi3]" >&2; exit 2 ;;
esac
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
seconds() {
  local s e
  s=$(date +%s.%N)
  $bin sweep "${args[@]}" --jobs 2 --results "$out/results" -q "$@" >/dev/null
  e=$(date +%s.%N)
  echo "$e - $s" | bc -l
}
cold=$(seconds)
warm=$(seconds)
private=$(seconds --no-shared-cache)
printf '%s: 9 points, --jobs 2, %s cores\n' "$which" "$(nproc)"
printf 'shared cache, cold   %7.1f s   %.3f of no-shared\n' "$cold" "$(echo "$cold / $private" | bc -l)"
printf 'shared cache, warm   %7.1f s   %.3f of no-shared\n' "$warm" "$(echo "$warm / $private" | bc -l)"
printf 'no shared cache      %7.1f s   1.000\n' "$private"
