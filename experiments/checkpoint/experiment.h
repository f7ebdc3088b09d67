#pragma once
// The experiment on a HuggingFace checkpoint: the model, its prompts and its variants (dense,
// other dtypes, other checkpoints, pruned, ablated), and the parts that work on them - the
// catch-tag-release analysis (hook, metrics, pca), pruning (calibrate, prune, ablate) and
// evaluation (eval). Stages are named in stage_names.h; the report is "checkpoint.report".
#include <memory>
#include <vector>

#include "experiments/checkpoint/part.h"
#include "experiments/checkpoint/stage_names.h"
#include "framework/runner/experiment.h"

namespace sinklab::checkpoint {

class CheckpointExperiment : public Experiment {
 public:
  // `parts` in the order their stages run: pruning first (it makes the pruned checkpoints).
  CheckpointExperiment(ModelSection model, std::vector<PromptSpec> prompts, std::map<std::string, VariantSpec> variants,
                       std::vector<std::unique_ptr<Part>> parts);
  std::string name() const override { return stage_names::experiment; }
  std::vector<std::unique_ptr<Stage>> stages() const override;
  void report(const RunView& run, const std::string& figures_dir, nlohmann::ordered_json& summary) const override;
  nlohmann::ordered_json report_reads() const override;
  std::vector<std::string> input_problems() const override;
  const ModelPool& pool() const { return *inputs_.pool; }

 private:
  Inputs inputs_;
  std::vector<std::unique_ptr<Part>> parts_;
};

}  // namespace sinklab::checkpoint
