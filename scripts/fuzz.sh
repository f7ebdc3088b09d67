#!/usr/bin/env bash
# Fuzzes sinklab's readers of untrusted files with libFuzzer (clang from Debian), SECONDS each
# (default 60): config YAML, tokenizer.json, safetensors, config.json, run archives, HDF5 cache
# entries (tests/fuzz/targets.cpp). Builds in build-fuzz/ with ASan and UBSan; starts from the
# committed corpus (tests/fuzz/corpus/<target>) and grows a working corpus in build-fuzz/corpus.
# A finding is written to build-fuzz/findings/<target>/ and the script exits 1: commit the input
# to tests/fuzz/corpus/<target>/ with the fix, so ctest `fuzz_corpus` replays it forever after.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
scripts/setup.sh --deps-only  # the libraries; build/ is left as it is
if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  sudo_cmd=""; [[ $(id -u) -eq 0 ]] || sudo_cmd=sudo
  $sudo_cmd apt-get install -y --no-install-recommends clang libclang-rt-dev >/dev/null || \
    $sudo_cmd apt-get install -y --no-install-recommends clang libclang-rt-14-dev >/dev/null
fi
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DSINKLAB_FUZZ=ON -DBUILD_TESTING=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$(nproc)"
status=0
for target in config_yaml tokenizer_json safetensors config_json archive hdf5_entry; do
  work=build-fuzz/corpus/$target findings=build-fuzz/findings/$target
  mkdir -p "$work" "$findings"
  log=build-fuzz/$target.log
  if ASAN_OPTIONS=detect_leaks=0 build-fuzz/fuzz_$target -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
       -artifact_prefix="$findings/" "$work" "tests/fuzz/corpus/$target" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' || true)
    [[ -n "$runs" ]] || runs=$(grep -oE '#[0-9]+' "$log" | tail -1 | tr -d '#')
    echo "fuzz $target: $runs executions in ${seconds}s, no finding"
  else
    echo "fuzz $target: FINDING (see $log and $findings/)"
    status=1
  fi
done
exit $status
