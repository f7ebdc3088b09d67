#pragma once
// An experiment kind: the stages it adds to a run and the report (figures, headline numbers)
// it renders from the assembled run.h5. One per config section.
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "experiments/run_config.h"
#include "framework/io/hdf5_store.h"
#include "framework/runner/stage.h"

namespace sinklab {

class Experiment {
 public:
  virtual ~Experiment() = default;
  virtual std::string name() const = 0;
  virtual std::vector<std::unique_ptr<Stage>> stages() const = 0;
  // Writes figures/<...>.png|svg under `figures_dir` and adds headline numbers to `summary`.
  virtual void report(const Hdf5File& run, const std::string& figures_dir, nlohmann::ordered_json& summary) const = 0;
  // Inputs that are absent (a checkpoint not downloaded, ...), each with how to fix it.
  // `validate` lists them; `run` refuses to start while there are any.
  virtual std::vector<std::string> input_problems() const { return {}; }
};

// The experiments a config asks for, in a fixed order.
std::vector<std::unique_ptr<Experiment>> experiments_for(const RunConfig& config);

class Runner;
// Adds every stage of those experiments, and one report stage each, to `runner`. The returned
// experiments must outlive the run (report stages refer to them).
std::vector<std::unique_ptr<Experiment>> add_experiment_stages(const RunConfig& config, Runner& runner);

}  // namespace sinklab
