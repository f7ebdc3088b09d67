#!/usr/bin/env bash
# Benchmark: few-shot scoring with prefix reuse (KV cache of the shared few-shot header, one pass
# over each question, all four " A".." D" continuations from the same logits) against the naive
# method (one forward pass over context + continuation per choice), in the same script on the
# same questions: questions per second, the ratio, and whether every log-likelihood agrees.
#   scripts/bench_eval.sh [QUESTIONS_PER_SUBJECT] [SHOTS] [SHARED_DIR]   (default 30, 5)
set -euo pipefail
cd "$(dirname "$0")/.."
limit=${1:-30}; shots=${2:-5}; shared=${3:-${SINKLAB_SHARED:-../shared}}
model=$shared/models/tiny-phi3
[ -f "$model/config.json" ] || { echo "no tiny-phi3 at $model" >&2; exit 2; }
[ -d /usr/share/hamexam/T ] || { echo "needs Debian's hamexam (apt-get install hamexam)" >&2; exit 2; }
python=""
for p in /usr/bin/python3 python3; do [ -z "$python" ] && $p -c 'import h5py' 2>/dev/null && python=$p; done
[ -n "$python" ] || { echo "python3 with h5py is needed (apt-get install python3-h5py)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf 'name: bench-eval\nmodel: {path: %s}\neval: {task: hamexam, data: /usr/share/hamexam, shots: [%s], limit: %s}\n' \
  "$model" "$shots" "$limit" > "$out/eval.yaml"
for scoring in prefix naive; do
  ./build/sinklab run "$out/eval.yaml" "eval.scoring=$scoring" -q --out "$out/$scoring" --cache "$out/cache" >/dev/null
done
$python - "$out" "$shots" <<'PY'
import sys, h5py, numpy as np
out, k = sys.argv[1], sys.argv[2]
g = {s: h5py.File(f"{out}/{s}/run.h5", "r")[f"eval.dense/k{k}"] for s in ("prefix", "naive")}
n = len(g["prefix"]["answer"])
for s in ("prefix", "naive"):
    a = g[s].attrs
    print(f"{s:<8} {n} questions at k={k}: {a['seconds']:.2f} s, {a['questions_per_second']:.1f} questions/s, "
          f"{a['tokens_computed']} tokens computed, {a['tokens_reused']} reused, accuracy {a['acc_micro']:.4f}")
diff = np.abs(g["prefix"]["loglikelihood"][:] - g["naive"]["loglikelihood"][:]).max()
same = (g["prefix"]["prediction"][:] == g["naive"]["prediction"][:]).all()
print(f"speed-up prefix/naive: {g['prefix'].attrs['questions_per_second'] / g['naive'].attrs['questions_per_second']:.2f}x; "
      f"max |delta log-likelihood| {diff:.2e}; identical predictions: {same}")
PY
