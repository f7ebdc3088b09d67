#pragma once
// The content-addressed stage cache: <cache>/<stage>/<key>.h5 plus <key>.json, the manifest,
// and <key>.files/ for extra files a stage writes (checkpoints), listed with their SHA-256;
// <key>.resume/ holds a running stage's finished parts until the entry commits.
//
// An entry is valid only when its manifest exists and matches the HDF5 file's size and SHA-256.
// The data file is renamed into place first and the manifest last, so a process killed at any
// moment leaves either a valid entry or one that is detected as incomplete and recomputed.
// Concurrent runs take a per-entry file lock; the second one waits and then finds it cached.
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "framework/io/atomic_file.h"

namespace sinklab {

class StageCache {
 public:
  explicit StageCache(std::string dir);
  const std::string& dir() const { return dir_; }
  std::string entry_path(const std::string& stage, const std::string& key) const;
  // <key>.files: where a committed entry's extra files live.
  std::string artifact_dir(const std::string& stage, const std::string& key) const;
  // <key>.resume: a stage's finished parts kept across killed runs (StageContext::resume_dir).
  std::string resume_dir(const std::string& stage, const std::string& key) const;
  void remove_resume_dir(const std::string& stage, const std::string& key) const;
  std::unique_ptr<FileLock> lock(const std::string& stage, const std::string& key) const;
  // Whether a complete, intact entry exists (call with the lock held). An incomplete or
  // corrupt entry is reported, deleted and reported as missing.
  bool valid(const std::string& stage, const std::string& key) const;
  nlohmann::json manifest(const std::string& stage, const std::string& key) const;
  // Moves a finished temporary file (and the temporary artifact directory, if it exists) into
  // place, writes the manifest last and then drops the resume directory (lock held).
  // Returns the manifest as written (with the artifacts' "files" hashes).
  nlohmann::json commit(const std::string& stage, const std::string& key, const std::string& temporary,
                        const std::string& temporary_artifacts, nlohmann::json manifest) const;
  // Deletes temporaries left by killed runs for this entry (lock held).
  void remove_stale_temporaries(const std::string& stage, const std::string& key) const;
  // SHA-256 of an input file, remembered in <cache>/fingerprints.json by (path, size, mtime,
  // device, inode, ctime): a 28 GB checkpoint is hashed once, not by every stage of every run
  // (~20 s each). ctime cannot be set back (`touch -r` restores mtime, not ctime), so a file
  // rewritten in place is hashed again. With `rehash` nothing remembered is trusted.
  std::string fingerprint(const std::string& path) const;
  void set_rehash(bool rehash) { rehash_ = rehash; }

 private:
  std::string manifest_path(const std::string& stage, const std::string& key) const;
  void remove(const std::string& stage, const std::string& key) const;
  std::string dir_;
  mutable nlohmann::json fingerprints_;  // loaded on first use
  bool rehash_ = false;
};

}  // namespace sinklab
