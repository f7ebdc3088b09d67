#!/usr/bin/env bash
# Benchmark: the paper's model at its real shapes on this machine. Writes random-weight
# checkpoints with exactly Phi-3-medium-4k-instruct's config.json (configs/models/) but 1 and
# BLOCKS blocks, in bfloat16, with the tiny-phi3 tokenizer (its ids are valid in the 32064-row
# embedding), and runs on each:
#   fig2's pipeline: hook + metrics + pca, two prompts of 2048 tokens;
#   calibrate + prune with wanda, sparsegpt and oats (randomized SVD) on SAMPLES x 2048 tokens;
#   5-shot evaluation on 20 hamexam questions (subject T).
# It prints each stage's seconds and peak anonymous memory (RssAnon: heap and copies, not the
# checkpoint's file-backed pages) at 1 and BLOCKS blocks, the seconds per block of the prune
# stages, and extrapolates linearly in the block count to Phi-3-medium's 40 blocks: time from
# the two sizes; memory growth of a prune stage from its own per-block peaks in the BLOCKS run
# (one process, no run-to-run allocator noise; the last block, which passes no stream on, left
# out), of the other stages from the two sizes (measured at 1/2/3 blocks, their peaks vary by
# +-1.5 GB without a trend: a slope from two sizes close together is mostly that noise).
#   scripts/bench_scale.sh [BLOCKS]          (default 3; BLOCKS >= 2, >= 3 for per-block growth of
#                                             the prune stages; run it alone)
# Environment: SAMPLES (16) calibration windows, OATS_ITERATIONS (80), DTYPE (bfloat16: the compute
# dtype; float32 computes from the bfloat16 file block by block - on a CPU without AVX512-BF16
# bfloat16 matmuls run ~30x slower than float32, `sinklab plan` shows both rates), SINKLAB_SHARED, WORK (the
# work directory, default /tmp/sinklab-bench-scale: ~2 GB per block of disk; its stage cache
# makes a rerun reuse finished stages, with their recorded seconds and memory), KEEP=1 keeps it.
set -euo pipefail
cd "$(dirname "$0")/.."
blocks=${1:-3}
samples=${SAMPLES:-16}
oats_iterations=${OATS_ITERATIONS:-80}
dtype=${DTYPE:-bfloat16}
shared=${SINKLAB_SHARED:-../shared}
(( blocks >= 2 )) || { echo "bench_scale: BLOCKS must be >= 2 (the slope needs two sizes)" >&2; exit 2; }
[ -f "$shared/models/tiny-phi3/tokenizer.json" ] || { echo "bench_scale: no tokenizer at $shared/models/tiny-phi3 (set SINKLAB_SHARED)" >&2; exit 2; }
[ -x build/sinklab ] || scripts/setup.sh
work=${WORK:-/tmp/sinklab-bench-scale}
mkdir -p "$work"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
for n in 1 "$blocks"; do
  [ -f "$work/phi3-medium-$n/config.json" ] ||
    build/sinklab model random configs/models/phi-3-medium-4k-instruct.config.json "$work/phi3-medium-$n" \
      --layers "$n" --tokenizer "$shared/models/tiny-phi3" >/dev/null
  cat > "$work/scale-$n.yaml" <<YAML
name: scale-$n
model: {path: $work/phi3-medium-$n, dtype: $dtype, name: phi3-medium-$n-blocks}
calibration: {path: /usr/share/common-licenses, samples: $samples, seq_len: 2048, batch_size: 1}
prompts:
  - {id: gpl, file: /usr/share/common-licenses/GPL-3, max_tokens: 2048}
  - {id: apache, file: /usr/share/common-licenses/Apache-2.0, max_tokens: 2048}
variants:
  dense: {}
  wanda: {prune: {method: wanda, sparsity: 0.5}}
  sparsegpt: {prune: {method: sparsegpt, sparsity: 0.5, damp: 0.1, block_size: 128}}
  oats: {prune: {method: oats, sparsity: 0.5, rank_ratio: 0.25, iterations: $oats_iterations, svd: randomized}}
probes:
  - {site: pattern, layers: [0], heads: [6]}
  - {site: result, layers: [0], heads: [6]}
pca:
  - {site: result, layer: 0, head: 6, prompt: gpl}
  - {site: normalized, layer: 0, prompt: gpl}
metrics: {layers: [0]}
eval: {task: hamexam, data: /usr/share/hamexam, subjects: [amateur radio technician], shots: [5], limit: 20}
YAML
  build/sinklab plan "$work/scale-$n.yaml" --json > "$work/plan-$n.jsonl"
  echo "bench_scale: $n block(s) ..." >&2
  build/sinklab run "$work/scale-$n.yaml" -q --results "$work/results" >/dev/null
done
python3 - "$work/results" "$blocks" "$work" <<'PY'
import json, sys, pathlib
root, n, work = pathlib.Path(sys.argv[1]), int(sys.argv[2]), pathlib.Path(sys.argv[3])
plan = {j["stage"]: j for j in map(json.loads, open(work / f"plan-{n}.jsonl"))}
def load(k):
    run = root / f"scale-{k}" / "latest"
    stages = {s["name"]: s for s in json.load(open(run / "provenance.json"))["stages"]}
    return run, stages
run1, s1 = load(1)
runn, sn = load(n)
L = 40
def extrap(a, b):  # linear in the block count through (1, a) and (n, b)
    return a + (b - a) / (n - 1) * (L - 1)
print(f"\nPhi-3-medium shapes, bfloat16 file, random weights; 1 and {n} blocks; extrapolated to {L}")
print(f"{'stage':<18} {'s @1':>8} {f's @{n}':>8} {f's @{L}':>9} {'anon MiB @1':>12} {f'@{n}':>8} {f'@{L}':>8}"
      f"   plan @{n}: {'MiB':>7} {'ratio':>6} {'s':>8} {'ratio':>6}")
peak40 = {}
sec40 = {}
def block_growth(name):
    # A prune stage's growth per block: the least-squares slope of its per-block peaks in the
    # BLOCKS run, over the blocks that pass the stream on (all but the last); None below 2 such.
    if not name.startswith("prune."): return None
    rep = json.load(open(runn / "artifacts" / name / "sinklab_pruning.json"))
    ys = rep.get("block_peak_anonymous_mib", [])[:-1]
    if len(ys) < 2: return None
    xs = list(range(len(ys)))
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
for name in sn:
    if name not in s1 or name.endswith("report"): continue
    a, b = s1[name], sn[name]
    t = extrap(a["compute_seconds"], b["compute_seconds"])
    # Memory: the peak at BLOCKS plus its growth per block, if any, for the remaining blocks.
    within = block_growth(name)
    growth = max(0.0, within if within is not None else (b["peak_anonymous_mib"] - a["peak_anonymous_mib"]) / (n - 1))
    m = b["peak_anonymous_mib"] + growth * (L - n)
    sec40[name], peak40[name] = t, m
    p = plan.get(name, {})
    est = (f"{p['anonymous_bytes'] / 2**20:>7.0f} {p['anonymous_bytes'] / 2**20 / b['peak_anonymous_mib']:>6.2f} "
           f"{p['seconds']:>8.1f} {p['seconds'] / b['compute_seconds']:>6.2f}") if "seconds" in p else "      (not estimated)"
    print(f"{name:<18} {a['compute_seconds']:>8.1f} {b['compute_seconds']:>8.1f} {t:>9.0f} "
          f"{a['peak_anonymous_mib']:>12.0f} {b['peak_anonymous_mib']:>8.0f} {m:>8.0f}   plan @{n}: {est}")
print(f"(plan ratio: estimate / measured; the plan's seconds are matmul FLOPs at the measured throughput,"
      f" so a ratio well below 1 is time spent outside matmuls)")
print(f"\nprune seconds per block at {n} blocks (the stage's own timings):")
hours = {}
for v in ["wanda", "sparsegpt", "oats"]:
    rep = json.load(open(runn / "artifacts" / f"prune.{v}" / "sinklab_pruning.json"))
    per = rep["block_seconds"]
    print(f"  {v:<10} " + " ".join(f"{x:.1f}" for x in per) + "   peak MiB: " +
          " ".join(f"{x:.0f}" for x in rep.get("block_peak_anonymous_mib", [])))
    hours[v] = sec40[f"prune.{v}"] / 3600
evals = json.load(open(runn / "summary.json")).get("eval", {})
questions = 20
hook_metrics = sum(sec40[k] for k in sec40 if k.startswith(("hook.", "metrics.")) and k.endswith(".dense"))
eval_per_q = sec40["eval.dense"] / questions
print(f"\nphi3-medium extrapolated: peak anon {max(peak40.values()) / 1024:.1f} GiB, hook+metrics {hook_metrics:.0f} s, "
      f"prune {hours['wanda']:.2f}/{hours['sparsegpt']:.2f}/{hours['oats']:.2f} h, eval {eval_per_q:.1f} s per question")
PY
