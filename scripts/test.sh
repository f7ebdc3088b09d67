#!/usr/bin/env bash
# Set up, build (with tests), and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
ctest --test-dir build --output-on-failure "$@"
