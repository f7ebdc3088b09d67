#!/usr/bin/env bash
# Set up, build, and run the quickstart (paper Section 4 on the built-in averaging model).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
./build/sinklab run configs/quickstart.yaml "$@"
