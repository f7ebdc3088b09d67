#pragma once
// The process's anonymous resident memory (RssAnon in /proc/self/status): heap, tensors, copies
// of weights, not the file-backed pages of a memory-mapped checkpoint, which the kernel can drop
// at will. That is the number that decides whether a stage fits.
#include <atomic>
#include <cstdint>
#include <thread>

namespace sinklab {

std::uint64_t anonymous_rss_bytes();     // now; 0 where /proc is unavailable
std::uint64_t available_memory_bytes();  // MemAvailable of /proc/meminfo (what a stage may take)

// Samples anonymous_rss_bytes() every `period_ms` on its own thread from construction until
// peak() is read for the last time (destruction): the high-water mark of one stage.
class AnonymousPeak {
 public:
  explicit AnonymousPeak(int period_ms = 20);
  ~AnonymousPeak();
  AnonymousPeak(const AnonymousPeak&) = delete;
  AnonymousPeak& operator=(const AnonymousPeak&) = delete;
  std::uint64_t peak() const;  // bytes, including the moment of the call

 private:
  std::atomic<std::uint64_t> peak_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace sinklab
