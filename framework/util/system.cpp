#include "framework/util/system.h"

#include <filesystem>

#include <malloc.h>
#include <sched.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <thread>

#include "framework/util/strings.h"

namespace sinklab {

std::string host_name() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (starts_with(line, "model name")) return trim(line.substr(line.find(':') + 1));
  return "";
}

unsigned hardware_threads() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return unsigned(CPU_COUNT(&set));
  unsigned n = std::thread::hardware_concurrency();
  return n ? n : 1;
}

static std::string format_now(const char* pattern) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, pattern, &tm);
  return buf;
}

std::string now_iso8601() { return format_now("%Y-%m-%dT%H:%M:%S%z"); }
std::string now_compact() { return format_now("%Y%m%d-%H%M%S"); }

std::string capture_command(const std::string& command) {
  std::FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return "";
  std::string out;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  int status = pclose(pipe);
  return status == 0 ? trim(out) : "";
}

const char* source_dir() { return SINKLAB_SOURCE_DIR; }

std::string resolve_data_path(const std::string& path) {
  namespace fs = std::filesystem;
  if (path.empty() || fs::path(path).is_absolute() || fs::exists(path)) return path;
  fs::path in_checkout = fs::path(SINKLAB_SOURCE_DIR) / path;
  return fs::exists(in_checkout) ? in_checkout.lexically_normal().string() : path;
}

GitState source_git_state() {
  // Asked at run time (not baked in at build time), so a rebuild is not needed to be truthful.
  GitState s;
  std::string dir = SINKLAB_SOURCE_DIR;
  s.commit = capture_command("git -C '" + dir + "' rev-parse HEAD");
  if (!s.commit.empty())
    s.dirty = !capture_command("git -C '" + dir + "' status --porcelain --untracked-files=no").empty();
  return s;
}

}  // namespace sinklab

namespace sinklab {

void configure_memory_allocator() {
  // No mmap'd chunks at all: glibc caps the mmap threshold at 32 MiB, and larger tensors (a
  // batch-8 attention pattern of tiny-phi3 is 64 MiB) would be mapped and unmapped on every use
  // (forward at batch 8 x 512: 1.1k -> 5.7k tokens/s). The heap still falls back to mmap when
  // it cannot grow.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);  // give memory back only above 1 GiB free
  mallopt(M_TOP_PAD, 64 << 20);
}

void release_free_heap() { malloc_trim(0); }

}  // namespace sinklab
