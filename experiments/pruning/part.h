#pragma once
// Pruned variants of the configured model (paper Section 3):
//   calibrate   token windows drawn from the calibration text with the model's tokenizer
//   prune.V     sequential calibration + pruning of every linear map inside the blocks; the
//               pruned model as a HuggingFace checkpoint (artifact files), sinklab_pruning.json
//               (method, parameters, per-matrix sparsity), sinklab_lowrank.safetensors (OATS)
//   ablate.V    an OATS variant with the low-rank terms of chosen layers/matrices removed
// The other parts' stages of a pruned variant read its checkpoint from these artifacts
// (ResolvedModel::source_stage). Its report: what each method removed, in summary.json.
#include <optional>

#include "experiments/checkpoint/part.h"
#include "framework/prune/calibration.h"

namespace sinklab::pruning {

inline const char* const kPruningReport = "sinklab_pruning.json";
inline const char* const kLowRankFile = "sinklab_lowrank.safetensors";

// True when some variant is pruned or ablated (the part has work to do).
bool has_pruned_variants(const std::map<std::string, checkpoint::VariantSpec>& variants);

class PruningPart : public checkpoint::Part {
 public:
  explicit PruningPart(std::optional<CalibrationConfig> calibration) : calibration_(std::move(calibration)) {}
  std::vector<std::unique_ptr<Stage>> checkpoint_stages(const checkpoint::Inputs& inputs) const override;
  void report(const RunView& run, const checkpoint::Inputs& inputs, const std::string& figures_dir,
              nlohmann::ordered_json& summary) const override;
  // The summary reads each variant's method, which the experiment's variants already key.
  nlohmann::ordered_json report_reads() const override { return nlohmann::ordered_json::object(); }
  std::vector<std::string> input_problems(const checkpoint::Inputs& inputs) const override;
  void check_indices(const checkpoint::Inputs& inputs, const ModelSpec& spec,
                     const checkpoint::ResolvedModel& model) const override;

 private:
  std::optional<CalibrationConfig> calibration_;
};

}  // namespace sinklab::pruning
