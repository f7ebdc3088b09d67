#pragma once
// The stages of the pruning part (see part.h).
#include <memory>
#include <string>

#include "experiments/checkpoint/inputs.h"
#include "framework/prune/calibration.h"
#include "framework/runner/stage.h"

namespace sinklab::pruning {

std::unique_ptr<Stage> make_calibrate_stage(const CalibrationConfig& config, const std::string& tokenizer);
std::unique_ptr<Stage> make_prune_stage(const checkpoint::ResolvedModel& base, const PruneConfig& prune,
                                        const std::optional<CalibrationConfig>& calibration);
std::unique_ptr<Stage> make_ablate_stage(const std::string& variant, const std::string& from, const std::string& dtype,
                                         const checkpoint::LowRankAblation& ablation);

}  // namespace sinklab::pruning
