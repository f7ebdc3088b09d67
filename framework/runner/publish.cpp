#include "framework/runner/publish.h"

#include <sys/resource.h>

#include <filesystem>

#include "framework/io/atomic_file.h"
#include "framework/io/hdf5_store.h"
#include "framework/runner/report_stage.h"
#include "framework/util/error.h"

namespace fs = std::filesystem;

namespace sinklab {
namespace {

// run.h5 holds a copy of every stage's entry: refused up front when the disk (or the process's
// file-size limit) cannot take it, because HDF5 1.10 crashes (SIGSEGV in H5Ocopy) instead of
// failing when a copy runs out of space.
void check_room_for(const std::string& path, const std::vector<StageRecord>& stages) {
  std::uintmax_t need = 64 << 10;  // the root's attributes and metadata
  std::error_code ec;
  for (const auto& s : stages) need += fs::file_size(s.entry, ec);
  const fs::space_info space = fs::space(fs::path(path).parent_path(), ec);
  const double mib = 1024.0 * 1024.0;
  SINKLAB_INPUT_CHECK(ec || space.available >= need, "run.h5 needs about {:.1f} MiB, but only {:.1f} MiB are free "
                      "where the run is published ({}): free space or choose --results / --out elsewhere",
                      double(need) / mib, double(space.available) / mib, fs::path(path).parent_path().string());
  struct rlimit limit {};
  SINKLAB_INPUT_CHECK(::getrlimit(RLIMIT_FSIZE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= need,
                      "run.h5 needs about {:.1f} MiB, but this process may write files of at most {:.1f} MiB "
                      "(ulimit -f): raise the limit", double(need) / mib, double(limit.rlim_cur) / mib);
}

// Copies each stage's cache entry into run.h5 as /<stage>, with the provenance on the root.
void assemble_run_h5(const std::string& path, const std::vector<StageRecord>& stages, const nlohmann::ordered_json& provenance) {
  check_room_for(path, stages);
  std::string tmp = temporary_path_for(path);
  try {
    Hdf5File run(tmp, Hdf5File::Mode::create);
    for (const auto& s : stages) {
      Hdf5File entry(s.entry, Hdf5File::Mode::read);
      entry.copy_group_to("/", run, "/" + s.name);
      run.set_attr("/" + s.name, "cached", std::int64_t(s.cached));
      run.set_attr("/" + s.name, "compute_seconds", s.compute_seconds);
    }
    run.set_attr("/", "sinklab_version", std::string(SINKLAB_VERSION));
    run.set_attr("/", "git_commit", provenance["git"]["commit"].get<std::string>());
    run.set_attr("/", "config_hash", provenance["config"]["hash"].get<std::string>());
    run.set_attr("/", "created", provenance["time"]["started"].get<std::string>());
    run.set_attr("/", "provenance", provenance.dump());
    run.close();  // a failed final write is an error here, not a truncated run.h5
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  commit_file(tmp, path);
}

}  // namespace

void publish_run(const RunDirectory& dir, const std::string& name, const std::vector<StageRecord>& stages,
                 const nlohmann::ordered_json& provenance) {
  nlohmann::ordered_json summary{{"name", name}, {"config_hash", provenance["config"]["hash"]}};
  std::string sums;  // SHA256SUMS: the linked files as their cache entries' manifests recorded them
  for (const auto& s : stages) {
    if (s.report) {
      auto part = ReportStage::read_summary(Hdf5File(s.entry, Hdf5File::Mode::read));
      for (auto it = part.begin(); it != part.end(); ++it) summary[it.key()] = it.value();
    }
    if (s.artifacts.empty()) continue;
    const std::string under = s.report ? "figures" : "artifacts/" + s.name;
    link_or_copy_files(s.artifacts, dir.file(under));
    for (const auto& [file, sha] : s.artifact_sha256) sums += sha + "  " + under + "/" + file + "\n";
  }
  // The artifacts are hard links into the cache where it shares the filesystem: a cache entry
  // changed later changes them too. `archive pack` checks them against these sums (and so can
  // `sha256sum -c SHA256SUMS`).
  if (!sums.empty()) write_file_atomic(dir.file("SHA256SUMS"), sums);
  assemble_run_h5(dir.file("run.h5"), stages, provenance);
  write_file_atomic(dir.file("summary.json"), summary.dump(2) + "\n");
  write_file_atomic(dir.file("provenance.json"), provenance.dump(2) + "\n");
}

}  // namespace sinklab
