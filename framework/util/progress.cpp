#include "framework/util/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "framework/util/log.h"

namespace sinklab {

std::string format_duration(double s) {
  if (s < 60) return fmt::format("{:.1f}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", int(s) / 60, int(s) % 60);
  return fmt::format("{}h{:02}m", int(s) / 3600, (int(s) % 3600) / 60);
}

Progress::Progress(std::string label, std::int64_t total)
    : label_(std::move(label)),
      total_(std::max<std::int64_t>(total, 1)),
      tty_(isatty(STDERR_FILENO) == 1 && log::level() >= log::Level::normal),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() { finish(); }

void Progress::advance(std::int64_t n) {
  done_ = std::min(total_, done_ + n);
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  // Redraw a bar 10x a second; print a plain line every 5 s.
  if (since >= (tty_ ? 0.1 : 5.0)) {
    last_draw_ = now;
    draw(false);
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  done_ = total_;
  draw(true);
}

void Progress::draw(bool final) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = elapsed > 0 ? done_ / elapsed : 0.0;
  double eta = rate > 0 ? (total_ - done_) / rate : 0.0;
  double frac = double(done_) / double(total_);
  if (tty_) {
    const int width = 30;
    int filled = int(frac * width);
    std::string bar(filled, '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r%s [%s] %lld/%lld %.1f/s ETA %s   %s", label_.c_str(), bar.c_str(),
                 (long long)done_, (long long)total_, rate, format_duration(eta).c_str(),
                 final ? "\n" : "");
    std::fflush(stderr);
  } else if (!final) {
    log::info("{}: {}/{} ({:.0f}%), {:.1f}/s, ETA {}", label_, done_, total_, 100 * frac, rate,
              format_duration(eta));
  }
}

}  // namespace sinklab
