// One libFuzzer binary per target (scripts/fuzz.sh builds it with -DSINKLAB_FUZZ_TARGET=name).
#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sinklab::fuzz::run_target(SINKLAB_FUZZ_TARGET, data, size);
  return 0;
}
