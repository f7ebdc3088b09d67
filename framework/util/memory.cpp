#include "framework/util/memory.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace sinklab {
namespace {

// The value in kB of the line starting with `key` in a /proc file, in bytes; 0 when absent.
std::uint64_t proc_kib(const char* file, const char* key) {
  std::FILE* f = std::fopen(file, "r");
  if (!f) return 0;
  char line[256];
  std::uint64_t kib = 0;
  const std::size_t n = std::strlen(key);
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, key, n) == 0) {
      kib = std::strtoull(line + n, nullptr, 10);
      break;
    }
  std::fclose(f);
  return kib * 1024;
}

}  // namespace

std::uint64_t anonymous_rss_bytes() { return proc_kib("/proc/self/status", "RssAnon:"); }
std::uint64_t available_memory_bytes() { return proc_kib("/proc/meminfo", "MemAvailable:"); }

AnonymousPeak::AnonymousPeak(int period_ms) : peak_(anonymous_rss_bytes()) {
  thread_ = std::thread([this, period_ms] {
    while (!stop_.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(period_ms));
      const std::uint64_t now = anonymous_rss_bytes();
      std::uint64_t seen = peak_.load();
      while (now > seen && !peak_.compare_exchange_weak(seen, now)) {
      }
    }
  });
}

AnonymousPeak::~AnonymousPeak() {
  stop_ = true;
  thread_.join();
}

std::uint64_t AnonymousPeak::peak() const {
  const std::uint64_t now = anonymous_rss_bytes(), seen = peak_.load();
  return now > seen ? now : seen;
}

}  // namespace sinklab
