#pragma once
// eval.V: every variant's few-shot accuracy at each k (and perplexity), and the Fig. 3 report.
#include <memory>
#include <string>
#include <vector>

#include "experiments/run_config.h"
#include "framework/io/hdf5_store.h"
#include "framework/runner/stage.h"

namespace sinklab::evaluation {

inline std::string eval_stage_name(const std::string& variant) { return "eval." + variant; }

std::unique_ptr<Stage> make_eval_stage(const RunConfig& config, const ResolvedModel& model);
// Figure 3 (accuracy vs k per variant, and the gap to dense) and the numbers in summary.json.
void report(const Hdf5File& run, const std::vector<ResolvedModel>& models, const EvalSpec& spec,
            const std::string& figures_dir, nlohmann::ordered_json& summary);

}  // namespace sinklab::evaluation
