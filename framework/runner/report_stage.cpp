#include "framework/runner/report_stage.h"

#include "framework/runner/experiment.h"
#include "framework/runner/runner.h"

#include <ATen/ATen.h>

#include <filesystem>

namespace fs = std::filesystem;

namespace sinklab {

void ReportStage::run(StageContext& ctx) const {
  std::map<std::string, const Hdf5File*> inputs;
  for (const auto& s : stages_) inputs[s] = &ctx.input(s);
  nlohmann::ordered_json summary = nlohmann::ordered_json::object();
  render_(RunView(inputs), ctx.artifact_dir(), summary);
  auto& out = ctx.output();
  out.write_strings("summary", {summary.dump()},
                    {{"meaning", std::string("this experiment's headline numbers (JSON), merged into summary.json")}});
  const auto figures = std::distance(fs::directory_iterator(ctx.artifact_dir()), fs::directory_iterator());
  out.write("figures", at::tensor(std::int64_t(figures)).reshape({}),
            {{"meaning", std::string("figure files written (PNG and SVG), []")}});
}

nlohmann::ordered_json ReportStage::read_summary(const Hdf5File& entry) {
  return nlohmann::ordered_json::parse(entry.read_strings("/summary").at(0));
}

void add_experiment(const Experiment& experiment, Runner& runner) {
  std::vector<std::string> names;
  for (auto& s : experiment.stages()) {
    names.push_back(s->name());
    runner.add(std::move(s));
  }
  runner.add(std::make_unique<ReportStage>(
      experiment.name(), kReportVersion, experiment.report_reads(), names,
      [&experiment](const RunView& run, const std::string& dir, nlohmann::ordered_json& summary) {
        experiment.report(run, dir, summary);
      }));
}

}  // namespace sinklab
