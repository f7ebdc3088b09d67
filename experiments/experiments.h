#pragma once
// The experiment kinds a run config asks for: the one table from config sections to experiments.
#include <memory>
#include <vector>

#include "experiments/run_config.h"
#include "framework/runner/experiment.h"

namespace sinklab {

// The experiments `config` asks for, in a fixed order.
std::vector<std::unique_ptr<Experiment>> experiments_for(const RunConfig& config);

class Runner;
// Adds every stage of those experiments, and a report stage each, to `runner`. The returned
// experiments must outlive the run (report stages call them).
std::vector<std::unique_ptr<Experiment>> add_experiment_stages(const RunConfig& config, Runner& runner);

}  // namespace sinklab
