#include "experiments/report_stage.h"

#include <ATen/ATen.h>

#include <filesystem>

#include "framework/io/atomic_file.h"

namespace fs = std::filesystem;

namespace sinklab {

bool ReportStage::is_report(const std::string& stage_name) {
  const std::string suffix = ".report";
  return stage_name.size() > suffix.size() && stage_name.compare(stage_name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void ReportStage::run(StageContext& ctx) const {
  // The report reads the same layout as run.h5 (/<stage>/<dataset>), so it is assembled here
  // from the upstream entries into a scratch file.
  std::string scratch = temporary_path_for((fs::temp_directory_path() / "sinklab-report.h5").string());
  nlohmann::ordered_json summary;
  try {
    {
      Hdf5File run(scratch, Hdf5File::Mode::create);
      for (const auto& s : stages_) ctx.input(s).copy_group_to("/", run, "/" + s);
    }
    Hdf5File run(scratch, Hdf5File::Mode::read);
    experiment_.report(run, ctx.artifact_dir(), summary);
  } catch (...) {
    fs::remove(scratch);
    throw;
  }
  fs::remove(scratch);
  write_file_atomic(ctx.artifact(kSummaryFile), summary.dump(2) + "\n");
  int64_t files = std::distance(fs::directory_iterator(ctx.artifact_dir()), fs::directory_iterator());
  ctx.output().write("files", at::tensor(files).reshape({}), {{"meaning", std::string("figures + summary written, []")}});
}

}  // namespace sinklab
