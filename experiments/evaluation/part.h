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

// What scoring `spec` on `model` takes (weights, activations, KV cache, FLOPs); loads the
// questions, reads no weights.
StageCost eval_cost(const EvalSpec& spec, const checkpoint::ResolvedModel& model);

// A missing question set, named under `key` (e.g. "eval") with where it comes from; empty when fine.
std::vector<std::string> question_set_problems(const EvalSpec& spec, const std::string& key);

// The files of spec.data (the question set), for fingerprints.
std::vector<std::string> question_files(const EvalSpec& spec);

// eval.V of one variant.
std::unique_ptr<Stage> make_eval_stage(const EvalSpec& spec, const checkpoint::Inputs& inputs,
                                       const checkpoint::ResolvedModel& model);

}  // namespace sinklab::evaluation
