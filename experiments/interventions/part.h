#pragma once
// Interventions on every variant (issue 19): each named entry of `interventions:` run against
// the clean model on the chosen prompts, in one stage per variant:
//   intervene.V   per prompt and entry (and "clean"): next-token NLL with the text position each
//                 scores, attention to position 0 per head (alpha_0), the largest |resid_post| and
//                 its median per layer, the count of massive activations (Sun et al.)
//   intervene_eval.V  (with `eval`) few-shot accuracy clean and under each entry not streamed,
//                 scored as eval.V scores it
// Its report: the effects against the clean run per variant (figures/interventions_V: perplexity,
// Sink-epsilon rate, largest activation, chosen heads' alpha_0) and, for streamed entries, NLL vs
// position (figures/kv_policies_V); the numbers in summary.json under "interventions".
#include "experiments/checkpoint/part.h"
#include "experiments/interventions/config.h"

namespace sinklab::interventions {

class InterventionsPart : public checkpoint::Part {
 public:
  explicit InterventionsPart(Section section) : section_(std::move(section)) {}
  std::vector<std::unique_ptr<Stage>> variant_stages(const checkpoint::Inputs& inputs,
                                                     const checkpoint::ResolvedModel& model) const override;
  void report(const RunView& run, const checkpoint::Inputs& inputs, const std::string& figures_dir,
              nlohmann::ordered_json& summary) const override;
  nlohmann::ordered_json report_reads() const override { return {{"interventions", encode_value(section_)}}; }
  void check_indices(const checkpoint::Inputs& inputs, const ModelSpec& spec,
                     const checkpoint::ResolvedModel& model) const override;
  std::vector<std::string> input_problems(const checkpoint::Inputs& inputs) const override;

 private:
  void report_patching(const RunView& run, const checkpoint::Inputs& inputs, const std::string& figures_dir,
                       nlohmann::ordered_json& summary) const;
  Section section_;
};

// The prompt with this id (the config's validation has checked that it exists).
const checkpoint::PromptSpec& prompt_named(const std::vector<checkpoint::PromptSpec>& all, const std::string& id);

// The prompts `section` selects, in config order.
std::vector<checkpoint::PromptSpec> selected_prompts(const Section& section, const std::vector<checkpoint::PromptSpec>& all);

std::unique_ptr<Stage> make_intervene_stage(const Section& section, const checkpoint::Inputs& inputs,
                                            const checkpoint::ResolvedModel& model);
// intervene_eval.V: few-shot accuracy clean and under each entry (when the section has `eval`).
std::unique_ptr<Stage> make_intervene_eval_stage(const Section& section, const checkpoint::Inputs& inputs,
                                                 const checkpoint::ResolvedModel& model);

}  // namespace sinklab::interventions
