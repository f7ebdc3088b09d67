#pragma once
// Few-shot multiple choice and perplexity of every variant (paper Fig. 3):
//   eval.V   accuracy at each k, as lm-evaluation-harness scores MMLU, and perplexity
// Its report: accuracy vs k per variant and each variant's gap to dense (figures/fewshot_accuracy),
// the numbers per variant, k and subject in summary.json.
#include "experiments/checkpoint/part.h"
#include "experiments/evaluation/config.h"

namespace sinklab::evaluation {

class EvaluationPart : public checkpoint::Part {
 public:
  explicit EvaluationPart(EvalSpec spec) : spec_(std::move(spec)) {}
  std::vector<std::unique_ptr<Stage>> variant_stages(const checkpoint::Inputs& inputs,
                                                     const checkpoint::ResolvedModel& model) const override;
  void report(const RunView& run, const checkpoint::Inputs& inputs, const std::string& figures_dir,
              nlohmann::ordered_json& summary) const override;
  nlohmann::ordered_json report_reads() const override { return {{"eval", encode_value(spec_)}}; }
  std::vector<std::string> input_problems(const checkpoint::Inputs& inputs) const override;

 private:
  EvalSpec spec_;
};

// eval.V of one variant.
std::unique_ptr<Stage> make_eval_stage(const EvalSpec& spec, const checkpoint::Inputs& inputs,
                                       const checkpoint::ResolvedModel& model);

}  // namespace sinklab::evaluation
