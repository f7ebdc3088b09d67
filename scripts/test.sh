#!/usr/bin/env bash
# Set up, build (with tests), and run the whole test suite; then say how many test cases were
# skipped and why (a skip fails instead when CI is set: tests/support/skip.h).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tests
export SINKLAB_SKIP_LOG="$PWD/build/Testing/skipped.log"
mkdir -p build/Testing
: > "$SINKLAB_SKIP_LOG"
status=0
ctest --test-dir build --output-on-failure "$@" || status=$?
skipped=$(grep -c . "$SINKLAB_SKIP_LOG" || true)
echo "skipped test cases: $skipped"
sed 's/^/  /' "$SINKLAB_SKIP_LOG"
exit $status
