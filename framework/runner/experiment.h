#pragma once
// An experiment kind: the stages it adds to a run and the report (figures, headline numbers) it
// renders from their outputs. One per config section (experiments/experiments.cpp lists them).
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "framework/runner/run_view.h"
#include "framework/runner/stage.h"

namespace sinklab {

class Runner;

class Experiment {
 public:
  virtual ~Experiment() = default;
  virtual std::string name() const = 0;  // its report stage is "<name>.report"
  virtual std::vector<std::unique_ptr<Stage>> stages() const = 0;
  // Writes figures/<...>.png|svg under `figures_dir` and adds headline numbers to `summary`,
  // reading nothing but `run` and the config (an archived run re-renders without models).
  virtual void report(const RunView& run, const std::string& figures_dir, nlohmann::ordered_json& summary) const = 0;
  // Every config value report() reads: the report stage's key, so a changed figure option
  // draws the figures again.
  virtual nlohmann::ordered_json report_reads() const = 0;
  // Inputs that are absent (a checkpoint not downloaded, ...), each with how to fix it.
  // `validate` lists them; `run` refuses to start while there are any.
  virtual std::vector<std::string> input_problems() const { return {}; }
};

// Bumped when any report's output changes, so cached reports are drawn again.
inline constexpr int kReportVersion = 6;

// Adds the experiment's stages and its report stage to `runner`; `experiment` must outlive the
// run (the report stage calls it).
void add_experiment(const Experiment& experiment, Runner& runner);

}  // namespace sinklab
