#include "framework/io/atomic_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "framework/util/error.h"

namespace fs = std::filesystem;

namespace sinklab {

std::string temporary_path_for(const std::string& final_path) {
  static std::atomic<int> counter{0};
  fs::path p(final_path);
  return (p.parent_path() / fmt::format(".{}.tmp.{}.{}", p.filename().string(), getpid(), counter++)).string();
}

static void fsync_path(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void commit_file(const std::string& temporary_path, const std::string& final_path) {
  fsync_path(temporary_path, O_RDONLY);
  if (std::rename(temporary_path.c_str(), final_path.c_str()) != 0)
    throw InputError(fmt::format("cannot move '{}' to '{}': {}", temporary_path, final_path, std::strerror(errno)));
  std::string dir = fs::path(final_path).parent_path().string();
  fsync_path(dir.empty() ? "." : dir, O_RDONLY | O_DIRECTORY);
}

void write_file_atomic(const std::string& path, const std::string& content) {
  std::string tmp = temporary_path_for(path);
  {
    std::ofstream out(tmp, std::ios::binary);
    SINKLAB_INPUT_CHECK(out.good(), "cannot write '{}': {}", tmp, std::strerror(errno));
    out << content;
    out.close();
    if (!out.good()) {  // nothing half-written stays behind
      std::error_code ec;
      fs::remove(tmp, ec);
      throw InputError(fmt::format("writing '{}' failed (disk full?)", path));
    }
  }
  commit_file(tmp, path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  SINKLAB_INPUT_CHECK(in.good(), "cannot read '{}': {}", path, std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void ensure_writable_dir(const std::string& dir, const std::string& hint) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  SINKLAB_INPUT_CHECK(!ec, "cannot create output directory '{}': {}; {}", dir, ec.message(), hint);
  std::string probe = temporary_path_for((fs::path(dir) / "write-probe").string());
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  SINKLAB_INPUT_CHECK(fd >= 0, "output directory '{}' is not writable: {}; {}", dir, std::strerror(errno), hint);
  ::close(fd);
  ::unlink(probe.c_str());
}

void link_or_copy_files(const std::string& from, const std::string& to) {
  fs::create_directories(to);
  for (const auto& e : fs::directory_iterator(from)) {
    fs::path target = fs::path(to) / e.path().filename();
    std::error_code ec;
    fs::create_hard_link(e.path(), target, ec);
    if (!ec) continue;
    // Another filesystem (no hard links): a copy, which can fail like any write.
    fs::copy_file(e.path(), target, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      std::error_code ignored;
      fs::remove(target, ignored);
      throw InputError(fmt::format("cannot copy '{}' to '{}': {} (disk full?)", e.path().string(), target.string(),
                                   ec.message()));
    }
  }
}

FileLock::FileLock(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  SINKLAB_INPUT_CHECK(fd_ >= 0, "cannot open lock file '{}': {}", path, std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
  waited_ = true;
  while (::flock(fd_, LOCK_EX) != 0)
    SINKLAB_CHECK(errno == EINTR, "flock('{}') failed: {}", path, std::strerror(errno));
}

FileLock::~FileLock() {
  if (fd_ >= 0) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
}

}  // namespace sinklab
