#!/usr/bin/env bash
# Benchmark the HuggingFace model path (forward tokens/s with and without attention capture,
# tokenizer MB/s, load memory). Needs a build (scripts/setup.sh).
#   scripts/bench_model.sh [CHECKPOINT_DIR [TOKENIZER_JSON]]   default: ../shared/models/tiny-phi3 and its tokenizer
set -euo pipefail
cd "$(dirname "$0")/.."
ninja -C build bench_model >/dev/null
./build/bench_model "$@"
