#!/usr/bin/env bash
# Benchmark: the full metrics stage (sink scores of every head, massive activations, outlier
# dimensions, per-head spectra) on tiny-phi3 for 8 prompts of 512 tokens - time, peak memory and
# HDF5 bytes written - against a baseline in the same script: a hook stage that keeps what the
# metrics need (every layer's attention pattern and hidden state) instead of streaming it.
#   scripts/bench_metrics.sh [SHARED_DIR]      (default ../shared; needs a build and python3)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${1:-${SINKLAB_SHARED:-../shared}}
model=$shared/models/tiny-phi3
[ -f "$model/config.json" ] || { echo "no tiny-phi3 at $model (pass the shared folder)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "python3 is needed to read provenance.json" >&2; exit 2; }
bin=./build/sinklab
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# 8 prompts of English prose (the GPL-3 text every Debian system ships), cut to 512 tokens.
python3 - "$out" <<'PY'
import sys
text = open('/usr/share/common-licenses/GPL-3').read().split()
for i in range(8):
    open(f'{sys.argv[1]}/p{i}.txt', 'w').write(' '.join(text[i * 600:(i + 1) * 600]))
PY
prompts=$(for i in 0 1 2 3 4 5 6 7; do echo "  - {id: p$i, file: $out/p$i.txt, max_tokens: 512}"; done)
printf 'name: bench-metrics\nmodel: {path: %s}\nprompts:\n%s\nmetrics: {}\n' "$model" "$prompts" > "$out/metrics.yaml"
printf 'name: bench-hooks\nmodel: {path: %s}\nprompts:\n%s\nprobes:\n  - {site: pattern, plot: false}\n  - {site: resid_post, plot: false}\n' \
  "$model" "$prompts" > "$out/hooks.yaml"

report() {  # config stage -> "seconds peak_mib bytes"
  $bin run "$out/$1.yaml" -q --results "$out/results" --force all >/dev/null
  python3 - "$out/results/bench-$1/latest/provenance.json" "$2" <<'PY'
import json, os, sys
p = json.load(open(sys.argv[1]))
s = next(s for s in p['stages'] if s['name'] == sys.argv[2])
print(f"{s['compute_seconds']:.3f} {p['peak_memory_mib']:.0f} {os.path.getsize(s['entry'])}")
PY
}
read -r ms mm mb <<<"$(report metrics metrics.dense)"
read -r hs hm hb <<<"$(report hooks hook.dense)"
printf '%-44s %9s %9s %12s\n' "tiny-phi3, 8 prompts x 512 tokens" "seconds" "peak MiB" "HDF5 bytes"
printf '%-44s %9s %9s %12s\n' "metrics stage (streamed reductions)" "$ms" "$mm" "$mb"
printf '%-44s %9s %9s %12s\n' "baseline: hook stage keeping pattern+resid" "$hs" "$hm" "$hb"
python3 -c "import sys; a=list(map(float, sys.argv[1:])); print(f'ratio metrics/baseline: time {a[0]/a[3]:.2f}, peak memory {a[1]/a[4]:.2f}, bytes {a[2]/a[5]:.4f}')" \
  "$ms" "$mm" "$mb" "$hs" "$hm" "$hb"
