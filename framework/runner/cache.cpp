#include "framework/runner/cache.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "framework/util/error.h"
#include "framework/util/hash.h"
#include "framework/util/log.h"
#include "framework/util/strings.h"

namespace fs = std::filesystem;

namespace sinklab {

StageCache::StageCache(std::string dir) : dir_(std::move(dir)) {}

std::string StageCache::fingerprint(const std::string& path) const {
  std::error_code ec;
  const std::string abs = fs::weakly_canonical(path, ec).string();
  struct stat st {};
  SINKLAB_INPUT_CHECK(::stat(abs.c_str(), &st) == 0, "cannot read input file '{}': {}", path, std::strerror(errno));
  const auto size = std::uint64_t(st.st_size);
  const auto mtime = std::int64_t(st.st_mtim.tv_sec) * 1000000000 + std::int64_t(st.st_mtim.tv_nsec);
  // The identity of the file and of its last change (status changes included).
  const std::string identity = fmt::format("{}:{}:{}.{:09d}", std::uint64_t(st.st_dev), std::uint64_t(st.st_ino),
                                           std::int64_t(st.st_ctim.tv_sec), std::int64_t(st.st_ctim.tv_nsec));
  const std::string memo = (fs::path(dir_) / "fingerprints.json").string();
  if (fingerprints_.is_null()) {
    fingerprints_ = nlohmann::json::object();
    if (fs::exists(memo)) {
      try {
        fingerprints_ = nlohmann::json::parse(read_file(memo));
      } catch (const std::exception& e) {
        log::warn("{}: unreadable ({}); fingerprints are recomputed", memo, e.what());
      }
    }
  }
  if (auto it = fingerprints_.find(abs); !rehash_ && it != fingerprints_.end() && it->is_object() &&
                                          it->value("size", std::uint64_t(0)) == size &&
                                          it->value("mtime", std::int64_t(0)) == mtime && it->value("file", "") == identity)
    return it->value("sha256", "");
  const std::string hash = sha256_file(abs);
  fingerprints_[abs] = {{"size", size}, {"mtime", mtime}, {"file", identity}, {"sha256", hash}};
  // Best effort: a concurrent run may overwrite this with its own additions; entries it lacks
  // are simply hashed again later.
  try {
    fs::create_directories(dir_);
    write_file_atomic(memo, fingerprints_.dump(1) + "\n");
  } catch (const std::exception& e) {
    log::debug("cannot record fingerprints in {}: {}", memo, e.what());
  }
  return hash;
}

std::string StageCache::entry_path(const std::string& stage, const std::string& key) const {
  return (fs::path(dir_) / stage / (key + ".h5")).string();
}

std::string StageCache::artifact_dir(const std::string& stage, const std::string& key) const {
  return (fs::path(dir_) / stage / (key + ".files")).string();
}

std::string StageCache::resume_dir(const std::string& stage, const std::string& key) const {
  return (fs::path(dir_) / stage / (key + ".resume")).string();
}

void StageCache::remove_resume_dir(const std::string& stage, const std::string& key) const {
  std::error_code ec;
  fs::remove_all(resume_dir(stage, key), ec);
}

std::string StageCache::manifest_path(const std::string& stage, const std::string& key) const {
  return (fs::path(dir_) / stage / (key + ".json")).string();
}

std::unique_ptr<FileLock> StageCache::lock(const std::string& stage, const std::string& key) const {
  fs::create_directories(fs::path(dir_) / stage);
  auto l = std::make_unique<FileLock>((fs::path(dir_) / stage / (key + ".lock")).string());
  if (l->waited()) log::info("{}: waited for another run that was computing the same entry", stage);
  return l;
}

void StageCache::remove(const std::string& stage, const std::string& key) const {
  std::error_code ec;
  fs::remove(manifest_path(stage, key), ec);
  fs::remove(entry_path(stage, key), ec);
  fs::remove_all(artifact_dir(stage, key), ec);
}

nlohmann::json StageCache::manifest(const std::string& stage, const std::string& key) const {
  return nlohmann::json::parse(read_file(manifest_path(stage, key)));
}

bool StageCache::valid(const std::string& stage, const std::string& key) const {
  const std::string data = entry_path(stage, key), meta = manifest_path(stage, key);
  std::error_code ec;
  bool has_data = fs::exists(data, ec), has_meta = fs::exists(meta, ec);
  if (!has_data && !has_meta) return false;
  std::string problem;
  if (!has_meta) {
    problem = "its manifest is missing (the run that wrote it was interrupted)";
  } else if (!has_data) {
    problem = "its data file is missing";
  } else {
    try {
      auto m = manifest(stage, key);
      if (m.at("key").get<std::string>() != key) problem = "its manifest belongs to another key";
      else if (m.at("bytes").get<std::uintmax_t>() != fs::file_size(data)) problem = "its size does not match the manifest (truncated?)";
      else if (m.at("sha256").get<std::string>() != sha256_file(data)) problem = "its checksum does not match the manifest (corrupt)";
      const nlohmann::json files = m.value("files", nlohmann::json::object());
      for (const auto& [name, hash] : files.items()) {
        if (!problem.empty()) break;
        std::string f = (fs::path(artifact_dir(stage, key)) / name).string();
        if (!fs::exists(f)) problem = "its file " + name + " is missing";
        // Remembered by size and mtime: a pruned 28 GB checkpoint is not re-hashed on every run.
        else if (fingerprint(f) != hash.get<std::string>()) problem = "its file " + name + " is corrupt";
      }
    } catch (const std::exception& e) {
      problem = std::string("its manifest is unreadable: ") + e.what();
    }
  }
  if (problem.empty()) return true;
  log::warn("cache entry {} is not valid: {}; recomputing", data, problem);
  remove(stage, key);
  return false;
}

nlohmann::json StageCache::commit(const std::string& stage, const std::string& key, const std::string& temporary,
                                  const std::string& temporary_artifacts, nlohmann::json manifest) const {
  const std::string data = entry_path(stage, key);
  manifest["key"] = key;
  manifest["stage"] = stage;
  manifest["bytes"] = fs::file_size(temporary);
  manifest["sha256"] = sha256_file(temporary);
  std::error_code ec;
  if (fs::is_directory(temporary_artifacts, ec)) {
    nlohmann::json files = nlohmann::json::object();
    for (const auto& e : fs::directory_iterator(temporary_artifacts))
      files[e.path().filename().string()] = sha256_file(e.path().string());
    manifest["files"] = files;
    fs::remove_all(artifact_dir(stage, key), ec);
    fs::rename(temporary_artifacts, artifact_dir(stage, key), ec);
    SINKLAB_CHECK(!ec, "cannot move {} into the cache: {}", temporary_artifacts, ec.message());
  }
  commit_file(temporary, data);
  write_file_atomic(manifest_path(stage, key), manifest.dump(2) + "\n");
  remove_resume_dir(stage, key);
  return manifest;
}

void StageCache::remove_stale_temporaries(const std::string& stage, const std::string& key) const {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(dir_) / stage, ec)) {
    std::string name = e.path().filename().string();
    if (starts_with(name, "." + key + ".") && name.find(".tmp.") != std::string::npos) {
      log::debug("removing stale temporary {}", e.path().string());
      fs::remove_all(e.path(), ec);
    }
  }
}

}  // namespace sinklab
