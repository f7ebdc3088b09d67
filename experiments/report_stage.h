#pragma once
// An experiment's report (figures + headline numbers) as a cached stage: it depends on the
// experiment's stages only, so a rerun with nothing changed links the cached figures instead of
// drawing them again. Artifacts: the figures, and summary.json with the experiment's numbers.
#include "experiments/experiment.h"

namespace sinklab {

class ReportStage : public Stage {
 public:
  ReportStage(const Experiment& experiment, std::vector<std::string> stages)
      : experiment_(experiment), stages_(std::move(stages)) {}
  std::string name() const override { return experiment_.name() + ".report"; }
  int version() const override { return 5; }  // bump when any report's output changes
  nlohmann::ordered_json reads() const override { return nlohmann::ordered_json::object(); }
  std::vector<std::string> upstream() const override { return stages_; }
  void run(StageContext& context) const override;

  static bool is_report(const std::string& stage_name);
  static constexpr const char* kSummaryFile = "summary.json";

 private:
  const Experiment& experiment_;
  std::vector<std::string> stages_;
};

}  // namespace sinklab
