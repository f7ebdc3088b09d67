#pragma once
// Skipping a test whose input is absent here (../shared, a tool the set-up installs). Catch2 v2
// has no "skipped" result - a return counts as a pass - so a skip is made visible instead:
//   - with CI set (CI=1/true, as CI runners export), a skip FAILS the test: in CI every input
//     is there, so a skip means a set-up step is missing;
//   - otherwise it WARNs and appends "<test case>: <reason>" to $SINKLAB_SKIP_LOG, which
//     scripts/test.sh counts and prints after ctest.
#include <string>

#include "tests/support/catch.h"

namespace sinklab::test {

// Records (or, in CI, fails on) a skipped test or part of one. The caller returns afterwards
// unless only a part was skipped.
void skipped(const std::string& reason);
bool in_ci();

}  // namespace sinklab::test

// Skip the rest of this test case.
#define SINKLAB_SKIP(reason)             \
  do {                                   \
    ::sinklab::test::skipped(reason);    \
    return;                              \
  } while (0)
