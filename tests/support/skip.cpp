#include "tests/support/skip.h"

#include <cstdlib>
#include <fstream>

namespace sinklab::test {

bool in_ci() {
  const char* ci = std::getenv("CI");
  if (!ci) return false;
  const std::string v = ci;
  return !v.empty() && v != "0" && v != "false" && v != "no";
}

void skipped(const std::string& reason) {
  const std::string name = Catch::getResultCapture().getCurrentTestName();
  if (in_ci()) FAIL("skipped in CI (CI is set, so every input should be here): " << reason);
  WARN("SKIPPED: " << reason);
  if (const char* log = std::getenv("SINKLAB_SKIP_LOG")) std::ofstream(log, std::ios::app) << name << ": " << reason << "\n";
}

}  // namespace sinklab::test
