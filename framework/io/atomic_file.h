#pragma once
// Crash-safe file writes and inter-process locks.
// A file is written under a temporary name in the same directory, flushed to disk, and renamed
// into place: readers see the old file or the complete new one, never a partial one.
#include <string>

namespace sinklab {

// "dir/.name.tmp.<pid>.<n>": unique per process and call, in the target's directory so the
// final rename stays on one file system.
std::string temporary_path_for(const std::string& final_path);

// Flushes the file's data to disk (fsync), then renames it over `final_path` and syncs the dir.
void commit_file(const std::string& temporary_path, const std::string& final_path);

// Writes `content` to `path` atomically.
void write_file_atomic(const std::string& path, const std::string& content);

// Reads a whole file; throws InputError naming the file when it cannot.
std::string read_file(const std::string& path);

// Creates `dir` (and parents) and checks that a file can be created in it; throws InputError
// with `hint` appended when it cannot.
void ensure_writable_dir(const std::string& dir, const std::string& hint);

// Makes every file of `from` appear in `to` (created): hard links where the file system allows,
// copies otherwise. Cached checkpoints thus appear in a run directory without using space.
void link_or_copy_files(const std::string& from, const std::string& to);

// An exclusive advisory lock (flock) on `path`, created if missing, held until destruction.
// Locks taken by a killed process are released by the kernel, so they never go stale.
class FileLock {
 public:
  explicit FileLock(const std::string& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  // true when another process held the lock and this one had to wait for it.
  bool waited() const { return waited_; }

 private:
  int fd_ = -1;
  bool waited_ = false;
};

}  // namespace sinklab
