#include "framework/runner/publish.h"

#include <filesystem>

#include "framework/io/atomic_file.h"
#include "framework/io/hdf5_store.h"
#include "framework/runner/report_stage.h"

namespace fs = std::filesystem;

namespace sinklab {
namespace {

// Copies each stage's cache entry into run.h5 as /<stage>, with the provenance on the root.
void assemble_run_h5(const std::string& path, const std::vector<StageRecord>& stages, const nlohmann::ordered_json& provenance) {
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
  } catch (...) {
    fs::remove(tmp);
    throw;
  }
  commit_file(tmp, path);
}

}  // namespace

void publish_run(const RunDirectory& dir, const std::string& name, const std::vector<StageRecord>& stages,
                 const nlohmann::ordered_json& provenance) {
  nlohmann::ordered_json summary{{"name", name}, {"config_hash", provenance["config"]["hash"]}};
  for (const auto& s : stages) {
    if (s.report) {
      auto part = ReportStage::read_summary(Hdf5File(s.entry, Hdf5File::Mode::read));
      for (auto it = part.begin(); it != part.end(); ++it) summary[it.key()] = it.value();
    }
    if (!s.artifacts.empty()) link_or_copy_files(s.artifacts, dir.file(s.report ? "figures" : "artifacts/" + s.name));
  }
  assemble_run_h5(dir.file("run.h5"), stages, provenance);
  write_file_atomic(dir.file("summary.json"), summary.dump(2) + "\n");
  write_file_atomic(dir.file("provenance.json"), provenance.dump(2) + "\n");
}

}  // namespace sinklab
