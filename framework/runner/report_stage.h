#pragma once
// An experiment's report as a cached stage: figures and headline numbers drawn from its stages'
// outputs only, so an unchanged rerun links the cached figures instead of drawing them again.
// Its key covers the config the drawing reads (`reads`), as any stage's does. Artifacts: the
// figures (published under figures/); output: `summary`, the experiment's part of summary.json.
#include <functional>

#include "framework/runner/run_view.h"
#include "framework/runner/stage.h"

namespace sinklab {

class ReportStage : public Stage {
 public:
  // Draws figures into `figures_dir` and adds numbers to `summary`, reading the run through `run`.
  using Render = std::function<void(const RunView& run, const std::string& figures_dir, nlohmann::ordered_json& summary)>;
  ReportStage(std::string experiment, int version, nlohmann::ordered_json reads, std::vector<std::string> stages,
              Render render)
      : experiment_(std::move(experiment)), version_(version), reads_(std::move(reads)), stages_(std::move(stages)),
        render_(std::move(render)) {}
  std::string name() const override { return stage_name(experiment_); }
  int version() const override { return version_; }
  nlohmann::ordered_json reads() const override { return reads_; }
  std::vector<std::string> upstream() const override { return stages_; }
  bool is_report() const override { return true; }
  void run(StageContext& context) const override;

  static std::string stage_name(const std::string& experiment) { return experiment + ".report"; }
  // The summary an executed (or cached) report stage wrote into its entry.
  static nlohmann::ordered_json read_summary(const Hdf5File& entry);

 private:
  std::string experiment_;
  int version_;
  nlohmann::ordered_json reads_;
  std::vector<std::string> stages_;
  Render render_;
};

}  // namespace sinklab
