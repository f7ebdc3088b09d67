#include "framework/util/log.h"

#include <cstdio>
#include <ctime>
#include <mutex>

namespace sinklab::log {
namespace {
Level g_level = Level::normal;
std::FILE* g_file = nullptr;
std::mutex g_mutex;

std::string timestamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}
}  // namespace

void set_level(Level level) { g_level = level; }
Level level() { return g_level; }

void set_file(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_file != nullptr) std::fclose(g_file);
  g_file = path.empty() ? nullptr : std::fopen(path.c_str(), "a");
}

void write(const char* tag, bool shown, const std::string& message) {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::string line = fmt::format("[{} {}] {}\n", timestamp(), tag, message);
  if (shown) std::fputs(line.c_str(), stderr);
  if (g_file != nullptr) {
    std::fputs(line.c_str(), g_file);
    std::fflush(g_file);
  }
}

}  // namespace sinklab::log
