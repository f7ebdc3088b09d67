#pragma once
// Progress of a long loop. On a terminal: one redrawn bar with rate and ETA.
// Otherwise (CI, pipes, files): a plain line at most every few seconds, so logs stay short.
#include <chrono>
#include <cstdint>
#include <string>

namespace sinklab {

class Progress {
 public:
  Progress(std::string label, std::int64_t total);
  ~Progress();
  void advance(std::int64_t n = 1);
  void finish();

 private:
  void draw(bool final);

  std::string label_;
  std::int64_t total_;
  std::int64_t done_ = 0;
  bool tty_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// "1m23s", "4.2s": durations for humans.
std::string format_duration(double seconds);

}  // namespace sinklab
