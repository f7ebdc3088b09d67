#include "framework/runner/run_dir.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <vector>

#include "framework/io/atomic_file.h"
#include "framework/util/error.h"
#include "framework/util/log.h"
#include "framework/util/system.h"

namespace fs = std::filesystem;

namespace sinklab {

static bool process_gone(pid_t pid) { return pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH; }

// Partial directories of processes that no longer exist (killed runs) are removed, and so are
// run ids they claimed (a directory holding only their `.claimed.<pid>`).
static void remove_abandoned_partials(const fs::path& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    auto pos = name.rfind(".partial.");
    if (!name.empty() && name[0] == '.' && pos != std::string::npos) {
      if (process_gone(pid_t(std::atol(name.c_str() + pos + 9)))) {
        log::debug("removing abandoned partial run {}", e.path().string());
        fs::remove_all(e.path(), ec);
      }
      continue;
    }
    if (!e.is_directory(ec)) continue;
    std::vector<fs::path> inside;
    for (const auto& f : fs::directory_iterator(e.path(), ec)) {
      inside.push_back(f.path());
      if (inside.size() > 1) break;
    }
    if (inside.size() != 1) continue;
    const std::string marker = inside.front().filename().string();
    if (marker.rfind(".claimed.", 0) == 0 && process_gone(pid_t(std::atol(marker.c_str() + 9)))) {
      fs::remove(inside.front(), ec);
      fs::remove(e.path(), ec);
    }
  }
}

RunDirectory::RunDirectory(const std::string& results_root, const std::string& name, const std::string& config_hash,
                           const std::optional<std::string>& explicit_dir) {
  fs::path final_path;
  if (explicit_dir) {
    explicit_ = true;
    final_path = fs::absolute(*explicit_dir).lexically_normal();
    if (final_path.filename().empty()) final_path = final_path.parent_path();
    // Only an earlier run (or an empty directory) may be replaced: --out ~ must never wipe a home.
    std::error_code ec;
    if (fs::is_directory(final_path, ec) && !fs::is_empty(final_path, ec))
      SINKLAB_INPUT_CHECK(fs::exists(final_path / "provenance.json", ec),
                          "--out {}: the directory exists and is not a sinklab run; refusing to replace it "
                          "(choose a new or empty directory)",
                          final_path.string());
    SINKLAB_INPUT_CHECK(!fs::exists(final_path, ec) || fs::is_directory(final_path, ec),
                        "--out {}: a file with that name exists; choose a directory path", final_path.string());
  } else {
    fs::path runs = fs::absolute(fs::path(results_root) / name).lexically_normal();
    ensure_writable_dir(runs.string(), "choose a writable place with --out DIR or --results DIR");
    remove_abandoned_partials(runs);
    // Claimed by creating it (atomic: of two runs in one second exactly one gets each name).
    const std::string id = now_compact() + "-" + config_hash.substr(0, 8);
    std::error_code ec;
    for (int n = 1;; ++n) {
      final_path = runs / (n == 1 ? id : id + "-" + std::to_string(n));
      if (fs::create_directory(final_path, ec)) break;
      SINKLAB_INPUT_CHECK(!ec, "cannot create run directory '{}': {}", final_path.string(), ec.message());
    }
    claim_guard_ = std::make_unique<RemoveOnInterrupt>(final_path.string());
    claim_ = (final_path / (".claimed." + std::to_string(getpid()))).string();
    write_file_atomic(claim_, "");
  }
  fs::path parent = final_path.parent_path();
  ensure_writable_dir(parent.string(), "choose a writable place with --out DIR or --results DIR");
  if (explicit_) remove_abandoned_partials(parent);
  final_ = final_path.string();
  partial_ = (parent / ("." + final_path.filename().string() + ".partial." + std::to_string(getpid()))).string();
  std::error_code ec;
  fs::remove_all(partial_, ec);
  partial_guard_ = std::make_unique<RemoveOnInterrupt>(partial_);
  fs::create_directories(fs::path(partial_) / "figures", ec);
  SINKLAB_INPUT_CHECK(!ec, "cannot create run directory '{}': {}", partial_, ec.message());
}

RunDirectory::~RunDirectory() {
  if (done_) return;
  std::error_code ec;
  fs::remove_all(partial_, ec);
  if (!claim_.empty()) {  // give the id back: only the marker is in it
    fs::remove(claim_, ec);
    fs::remove(final_, ec);
  }
}

std::string RunDirectory::file(const std::string& relative) const { return (fs::path(partial_) / relative).string(); }

void RunDirectory::finalize() {
  // From here on the directories become the published run: an interrupt must not remove them
  // (it may leave the partial one, which the next run removes).
  partial_guard_.reset();
  claim_guard_.reset();
  std::error_code ec;
  std::string replaced;
  if (!claim_.empty()) {  // our own claim: empty once the marker goes, and rename replaces an empty directory
    fs::remove(claim_, ec);
    SINKLAB_INPUT_CHECK(!ec, "cannot remove '{}': {}", claim_, ec.message());
  } else if (fs::exists(final_)) {
    replaced = partial_ + ".replaced";
    fs::rename(final_, replaced, ec);
    SINKLAB_INPUT_CHECK(!ec, "cannot replace '{}': {}", final_, ec.message());
  }
  fs::rename(partial_, final_, ec);
  SINKLAB_INPUT_CHECK(!ec, "cannot move run to '{}': {}", final_, ec.message());
  done_ = true;
  if (!replaced.empty()) fs::remove_all(replaced, ec);
  if (!explicit_) {
    // latest -> this run, swapped atomically.
    fs::path latest = fs::path(final_).parent_path() / "latest";
    fs::path tmp = fs::path(temporary_path_for(latest.string()));
    fs::create_directory_symlink(fs::path(final_).filename(), tmp, ec);
    if (!ec) fs::rename(tmp, latest, ec);
  }
}

}  // namespace sinklab
