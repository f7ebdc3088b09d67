#pragma once
// Logging to stderr (and, during a run, also to the run directory's run.log).
// Levels: quiet shows warnings and errors; normal adds info; verbose adds debug.
#include <fmt/format.h>

#include <string>

namespace sinklab::log {

enum class Level { quiet = 0, normal = 1, verbose = 2 };

void set_level(Level level);
Level level();
// Also append every line (at any level) to this file; empty path stops it.
void set_file(const std::string& path);

void write(const char* tag, bool shown, const std::string& message);

template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  write("info", level() >= Level::normal, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  write("debug", level() >= Level::verbose, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  write("warning", true, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace sinklab::log
