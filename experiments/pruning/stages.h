#pragma once
// Stages that make pruned variants of the configured model (paper Section 3):
//   calibrate   token windows drawn from the calibration text with the model's tokenizer
//   prune.V     sequential calibration + pruning of every linear map inside the blocks; the
//               pruned model as a HuggingFace checkpoint (artifact files), sinklab_pruning.json
//               (method, parameters, per-matrix sparsity), sinklab_lowrank.safetensors (OATS)
//   ablate.V    an OATS variant with the low-rank terms of chosen layers/matrices removed
// The analysis stages of a pruned variant read its checkpoint from these artifacts.
#include <memory>
#include <string>
#include <vector>

#include "experiments/run_config.h"
#include "framework/runner/stage.h"

namespace sinklab::pruning {

inline const char* kCalibrateStage = "calibrate";
inline const char* kPruningReport = "sinklab_pruning.json";
inline const char* kLowRankFile = "sinklab_lowrank.safetensors";

// The calibrate, prune and ablate stages the config's variants need (none for dense ones).
std::vector<std::unique_ptr<Stage>> variant_stages(const RunConfig& config);

// The checkpoint directory of a variant: its path, or its source stage's artifacts.
std::string model_directory(const ResolvedModel& model, StageContext& ctx);

}  // namespace sinklab::pruning
