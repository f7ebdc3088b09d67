// Child programs as sinklab starts them.
#include <pthread.h>
#include <signal.h>

#include "tests/support/catch.h"

#include "framework/util/subprocess.h"

using namespace sinklab;

// sinklab blocks SIGINT and SIGTERM for its signal thread (util/interrupt.h); a program it starts
// must not inherit that mask (a blocked mask survives exec), or it could not be stopped.
TEST_CASE("programs sinklab starts get SIGINT and SIGTERM unblocked", "[util]") {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  auto r = run_captured({"/bin/grep", "SigBlk", "/proc/self/status"});
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("SigBlk:\t0000000000000000"));
}
