// Catch2's main. Logging is quiet during tests (set SINKLAB_TEST_VERBOSE=1 to see it), so a
// failure's report is not buried in stage logs.
#define CATCH_CONFIG_RUNNER
#include "tests/support/catch.h"
#include <cstdlib>

#include "framework/util/log.h"

int main(int argc, char** argv) {
  if (std::getenv("SINKLAB_TEST_VERBOSE") == nullptr) sinklab::log::set_level(sinklab::log::Level::quiet);
  return Catch::Session().run(argc, argv);
}
