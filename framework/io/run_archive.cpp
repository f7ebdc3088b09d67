#include "framework/io/run_archive.h"

#include <signal.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "framework/io/atomic_file.h"
#include "framework/io/hdf5_probe.h"
#include "framework/util/error.h"
#include "framework/util/hash.h"
#include "framework/util/interrupt.h"
#include "framework/util/strings.h"

namespace fs = std::filesystem;

namespace sinklab {
namespace {

const char* kManifest = "MANIFEST.json";

// libarchive's message for the last failure; it may have none (a null pointer fmt refuses).
std::string error_of(archive* a) {
  const char* m = archive_error_string(a);
  return m ? m : "no details from libarchive";
}
// The most a file read whole from an archive (manifest, provenance, summary) may hold.
constexpr std::size_t kMaxSmallFile = std::size_t(64) << 20;

}  // namespace

bool is_archive_name(const std::string& file) {
  return ends_with(file, ".tar.zst") || ends_with(file, ".tar.gz") || ends_with(file, ".tgz");
}

namespace {

struct Writer {
  archive* a;
  // Writes `path`; the compression follows `name` (the final file name).
  Writer(const std::string& path, const std::string& file) : a(archive_write_new()) {
    SINKLAB_INPUT_CHECK(is_archive_name(file), "archive '{}' must end in .tar.gz, .tgz or .tar.zst", file);
    if (ends_with(file, ".tar.zst")) archive_write_add_filter_zstd(a);
    else archive_write_add_filter_gzip(a);
    archive_write_set_format_pax_restricted(a);
    SINKLAB_INPUT_CHECK(archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK, "cannot write '{}': {}", file,
                        error_of(a));
  }
  ~Writer() { archive_write_free(a); }
  void add(const std::string& name, const std::string& bytes) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, la_int64_t(bytes.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    const bool ok = archive_write_header(a, e) == ARCHIVE_OK &&
                    (bytes.empty() || archive_write_data(a, bytes.data(), bytes.size()) == la_ssize_t(bytes.size()));
    archive_entry_free(e);
    SINKLAB_INPUT_CHECK(ok, "cannot write {} into the archive (disk full?): {}", name, error_of(a));
  }
  void add_file(const std::string& name, const std::string& path) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, la_int64_t(fs::file_size(path)));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    bool ok = archive_write_header(a, e) == ARCHIVE_OK;
    archive_entry_free(e);
    SINKLAB_INPUT_CHECK(ok, "cannot write {} into the archive (disk full?): {}", name, error_of(a));
    std::ifstream in(path, std::ios::binary);
    std::vector<char> buf(1 << 20);
    while (in && ok) {
      in.read(buf.data(), std::streamsize(buf.size()));
      if (in.gcount() > 0) ok = archive_write_data(a, buf.data(), std::size_t(in.gcount())) == la_ssize_t(in.gcount());
    }
    SINKLAB_INPUT_CHECK(ok, "cannot write {} into the archive (disk full?): {}", name, error_of(a));
  }
  void close() {
    SINKLAB_INPUT_CHECK(archive_write_close(a) == ARCHIVE_OK, "cannot finish the archive (disk full?): {}", error_of(a));
  }
};

struct Reader {
  archive* a;
  std::string file;
  explicit Reader(const std::string& f) : a(archive_read_new()), file(f) {
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    if (!fs::exists(f) || archive_read_open_filename(a, f.c_str(), 1 << 20) != ARCHIVE_OK) {
      const std::string why = fs::exists(f) ? fmt::format("'{}' is not a readable archive: {}", f, error_of(a))
                                            : fmt::format("archive '{}' does not exist", f);
      archive_read_free(a);  // the destructor does not run for a constructor that throws
      throw InputError(why);
    }
  }
  ~Reader() { archive_read_free(a); }
  // Calls `entry(path, type, sink)` per entry; `sink(bytes, n)` receives its data via read().
  template <class F>
  void each(F&& entry) {
    archive_entry* e = nullptr;
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) entry(std::string(archive_entry_pathname(e)), archive_entry_filetype(e));
    SINKLAB_INPUT_CHECK(r == ARCHIVE_EOF, "'{}' is truncated or corrupt: {}", file, error_of(a));
  }
  // The current entry's bytes, streamed into `out` (and hashed).
  std::string read(std::ostream* out) {
    Sha256 h;
    std::vector<char> buf(1 << 20);
    la_ssize_t n;
    while ((n = archive_read_data(a, buf.data(), buf.size())) > 0) {
      h.update(buf.data(), std::size_t(n));
      if (out) out->write(buf.data(), n);
    }
    SINKLAB_INPUT_CHECK(n == 0, "'{}' is truncated or corrupt: {}", file, error_of(a));
    return h.hex();
  }
  // The current entry whole, for the small files read into memory (the manifest, provenance): an
  // entry over `limit` bytes is refused before it takes the memory.
  std::string read_all(const std::string& what, std::size_t limit) {
    std::string s;
    std::vector<char> buf(1 << 16);
    la_ssize_t n;
    while ((n = archive_read_data(a, buf.data(), buf.size())) > 0) {
      SINKLAB_INPUT_CHECK(s.size() + std::size_t(n) <= limit, "'{}': {} is over {} MiB, far more than a run's (a few "
                          "KB): not a sinklab archive, or a tampered one", file, what, limit >> 20);
      s.append(buf.data(), std::size_t(n));
    }
    SINKLAB_INPUT_CHECK(n == 0, "'{}' is truncated or corrupt: {}", file, error_of(a));
    return s;
  }
};

// A relative path with no "..", no empty or absolute parts.
bool safe_path(const std::string& p) {
  if (p.empty() || p[0] == '/' || p.find('\\') != std::string::npos) return false;
  for (const auto& part : fs::path(p))
    if (part == ".." || part == "." || part.empty()) return false;
  return true;
}

}  // namespace

std::size_t pack_archive(const std::string& dir, const std::string& file, const ArchiveOptions& options) {
  SINKLAB_INPUT_CHECK(fs::is_directory(dir), "'{}' is not a run or sweep directory", dir);
  const std::string root = fs::path(fs::absolute(dir)).lexically_normal().filename().string();
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.is_symlink()) continue;
    const std::string rel = fs::relative(e.path(), dir).string();
    if (!options.checkpoints && ends_with(rel, ".safetensors")) continue;
    if (!options.tensors && ends_with(rel, ".h5")) continue;
    files.push_back(rel);
  }
  std::sort(files.begin(), files.end());
  nlohmann::ordered_json manifest{{"format", "sinklab-archive-1"}, {"sinklab_version", SINKLAB_VERSION}, {"root", root},
                                  {"files", nlohmann::ordered_json::array()}};
  if (fs::exists(fs::path(dir) / "provenance.json")) {
    auto p = nlohmann::json::parse(read_file((fs::path(dir) / "provenance.json").string()));
    manifest["provenance"] = {{"config_hash", p.value("/config/hash"_json_pointer, std::string())},
                              {"git", p.value("sinklab", nlohmann::json())},
                              {"started", p.value("/time/started"_json_pointer, std::string())}};
  }
  // A run's artifacts may be hard links into the stage cache: what changed there since the run
  // was published (SHA256SUMS) is refused, not archived as the run's.
  std::map<std::string, std::string> published;
  if (fs::exists(fs::path(dir) / "SHA256SUMS"))
    for (const auto& line : split(read_file((fs::path(dir) / "SHA256SUMS").string()), '\n'))
      if (line.size() > 66) published[line.substr(66)] = line.substr(0, 64);
  for (const auto& f : files) {
    const std::string sha = sha256_file((fs::path(dir) / f).string());
    auto it = published.find(f);
    SINKLAB_INPUT_CHECK(it == published.end() || it->second == sha, "{}: {} changed since the run was published (it "
                        "shares storage with the stage cache, whose entry was modified); rerun the run's stages with "
                        "--force to publish it again", dir, f);
    manifest["files"].push_back({{"path", f}, {"bytes", fs::file_size(fs::path(dir) / f)}, {"sha256", sha}});
  }
  const std::string tmp = temporary_path_for(file);
  try {
    Writer w(tmp, file);
    w.add(root + "/" + kManifest, manifest.dump(2) + "\n");
    for (const auto& f : files) w.add_file(root + "/" + f, (fs::path(dir) / f).string());
    w.close();
  } catch (...) {
    fs::remove(tmp);
    throw;
  }
  commit_file(tmp, file);
  return files.size();
}

std::vector<std::string> verify_archive(const std::string& file) {
  Reader r(file);
  nlohmann::json manifest;
  std::map<std::string, std::string> seen;  // path -> sha256
  std::vector<std::string> problems;
  r.each([&](const std::string& path, unsigned type) {
    if (type != AE_IFREG) {
      problems.push_back(fmt::format("{}: not a regular file (links and devices are not allowed)", path));
      return;
    }
    if (!safe_path(path)) problems.push_back(fmt::format("{}: unsafe path", path));
    const auto slash = path.find('/');
    const std::string rel = slash == std::string::npos ? path : path.substr(slash + 1);
    if (rel == kManifest && manifest.is_null()) {
      try {
        manifest = nlohmann::json::parse(r.read_all(kManifest, kMaxSmallFile));
      } catch (const nlohmann::json::exception& e) {
        throw InputError(fmt::format("'{}': {} is not JSON ({}): not a sinklab archive, or a damaged one", file,
                                     kManifest, e.what()));
      }
    }
    else seen[rel] = r.read(nullptr);
  });
  SINKLAB_INPUT_CHECK(!manifest.is_null(), "'{}' has no {}: not a sinklab archive", file, kManifest);
  for (const auto& f : manifest["files"]) {
    const std::string path = f["path"];
    auto it = seen.find(path);
    if (it == seen.end()) problems.push_back(fmt::format("{}: listed in the manifest but missing", path));
    else if (it->second != f["sha256"].get<std::string>()) problems.push_back(fmt::format("{}: SHA-256 does not match the manifest (modified)", path));
    if (it != seen.end()) seen.erase(it);
  }
  for (const auto& [path, h] : seen) problems.push_back(fmt::format("{}: not listed in the manifest", path));
  return problems;
}

std::map<std::string, std::string> read_archive_files(const std::string& file, const std::vector<std::string>& names) {
  return read_archive_files_if(file, [&](const std::string& path) {
    for (const auto& n : names)
      if (path == n || ends_with(path, "/" + n)) return true;
    return false;
  });
}

std::map<std::string, std::string> read_archive_files_if(const std::string& file,
                                                         const std::function<bool(const std::string&)>& wanted) {
  Reader r(file);
  std::map<std::string, std::string> out;
  r.each([&](const std::string& entry, unsigned type) {
    const auto slash = entry.find('/');
    const std::string path = slash == std::string::npos ? entry : entry.substr(slash + 1);
    if (type == AE_IFREG && wanted(path)) out[path] = r.read_all(path, kMaxSmallFile);
  });
  return out;
}

// Temporary trees of unpacks into `dest` whose process is gone (killed: SIGKILL leaves them).
static void remove_abandoned_unpacks(const std::string& dest) {
  const fs::path d = fs::absolute(dest).lexically_normal();
  const std::string prefix = "." + d.filename().string() + ".tmp.";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(d.parent_path(), ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const pid_t pid = pid_t(std::atol(name.c_str() + prefix.size()));
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) fs::remove_all(e.path(), ec);
  }
}

void unpack_archive(const std::string& file, const std::string& dest) {
  SINKLAB_INPUT_CHECK(!fs::exists(dest), "'{}' already exists: unpack into a new directory", dest);
  auto problems = verify_archive(file);  // every hash and path checked before anything is written
  SINKLAB_INPUT_CHECK(problems.empty(), "'{}' failed verification: {}", file, problems.front());
  remove_abandoned_unpacks(dest);
  const std::string tmp = temporary_path_for(dest);
  RemoveOnInterrupt guard(tmp);
  try {
    Reader r(file);
    r.each([&](const std::string& path, unsigned) {
      const auto slash = path.find('/');
      const std::string rel = slash == std::string::npos ? path : path.substr(slash + 1);
      const fs::path target = fs::path(tmp) / rel;
      std::error_code ec;
      fs::create_directories(target.parent_path(), ec);
      SINKLAB_INPUT_CHECK(!ec, "cannot unpack into '{}': {}", target.parent_path().string(), ec.message());
      std::ofstream out(target, std::ios::binary);
      SINKLAB_INPUT_CHECK(out.good(), "cannot write '{}': {}", target.string(), std::strerror(errno));
      r.read(&out);
      out.close();
      // Every write is checked: a full disk fails the stream (ENOSPC), not silently the file.
      SINKLAB_INPUT_CHECK(!out.fail(), "cannot write '{}' (disk full?): {}; nothing was unpacked", target.string(),
                          std::strerror(errno));
    });
    // What is on disk now, read back, must be what the manifest lists, before it is trusted.
    const auto manifest = nlohmann::json::parse(read_file((fs::path(tmp) / kManifest).string()));
    for (const auto& f : manifest["files"]) {
      const std::string path = f["path"], want = f["sha256"];
      const std::string on_disk = (fs::path(tmp) / path).string();
      SINKLAB_INPUT_CHECK(fs::is_regular_file(on_disk) && sha256_file(on_disk) == want,
                          "unpacking '{}': {} does not read back as the manifest lists it (disk full or failing?); "
                          "nothing was unpacked", file, path);
      // A matching hash says the file is the author's, not that HDF5 can read it safely.
      if (path.size() > 3 && path.compare(path.size() - 3, 3, ".h5") == 0) {
        try {
          check_hdf5_in_child(on_disk);
        } catch (const InputError& e) {
          throw InputError(fmt::format("unpacking '{}': {}; nothing was unpacked", file, e.what()));
        }
      }
    }
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
  std::error_code ec;
  fs::rename(tmp, dest, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    throw InputError(fmt::format("cannot move the unpacked run to '{}': {}", dest, ec.message()));
  }
}

}  // namespace sinklab
