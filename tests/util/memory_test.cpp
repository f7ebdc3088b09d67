// Anonymous memory readings: a touched allocation shows in RssAnon and in a stage's peak, and
// the peak outlives the allocation.
#include <ATen/ATen.h>

#include "tests/support/catch.h"

#include <chrono>
#include <thread>

#include "framework/util/memory.h"

using namespace sinklab;

TEST_CASE("RssAnon sees a touched 256 MiB tensor, and the peak remembers it after it is freed", "[util][memory]") {
  REQUIRE(anonymous_rss_bytes() > 0);
  CHECK(available_memory_bytes() > 0);
  const std::uint64_t mib = 1024 * 1024;
  AnonymousPeak peak(5);
  const std::uint64_t before = anonymous_rss_bytes();
  {
    at::Tensor t = at::ones({64 * 1024 * 1024}, at::kFloat);  // 256 MiB, every page written
    CHECK(anonymous_rss_bytes() >= before + 250 * mib);
    // Held long enough for the 5 ms sampler to see it even on a busy machine (it sleeps too).
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  CHECK(peak.peak() >= before + 250 * mib);
}
