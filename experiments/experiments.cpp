#include "experiments/experiment.h"

#include "framework/runner/runner.h"

#include "experiments/catch_tag_release/experiment.h"
#include "experiments/report_stage.h"
#include "experiments/theorem41/experiment.h"
#include "experiments/toy_learned/experiment.h"

namespace sinklab {

std::vector<std::unique_ptr<Experiment>> experiments_for(const RunConfig& config) {
  std::vector<std::unique_ptr<Experiment>> out;
  if (config.theorem41) out.push_back(std::make_unique<theorem41::Theorem41Experiment>(*config.theorem41, config.seed));
  if (config.toy_learned) out.push_back(std::make_unique<toy_learned::ToyLearnedExperiment>(*config.toy_learned));
  if (config.model) out.push_back(std::make_unique<catch_tag_release::CatchTagReleaseExperiment>(config));
  return out;
}

std::vector<std::unique_ptr<Experiment>> add_experiment_stages(const RunConfig& config, Runner& runner) {
  auto experiments = experiments_for(config);
  for (const auto& e : experiments) {
    std::vector<std::string> names;
    for (auto& s : e->stages()) {
      names.push_back(s->name());
      runner.add(std::move(s));
    }
    runner.add(std::make_unique<ReportStage>(*e, names));
  }
  return experiments;
}

}  // namespace sinklab
