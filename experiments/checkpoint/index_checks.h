#pragma once
// What every part checks before a run, from config.json alone (Part::check_indices): that a
// configured layer, head or hook site exists in the model, and that the prompts fit its context.
// Each failure is an InputError naming the config key and what the model has.
#include <cstdint>
#include <string>
#include <vector>

#include "experiments/checkpoint/inputs.h"
#include "framework/model/model_spec.h"

namespace sinklab::checkpoint {

class IndexChecks {
 public:
  IndexChecks(const ModelSpec& spec, const ResolvedModel& model) : spec_(spec), model_(model) {}
  void layer(std::int64_t layer, const std::string& key) const;
  void site(const std::string& site, const std::string& key) const;  // the model computes it
  // A head of `site`'s kind: query heads, or key/value heads for k, v and rot_k.
  void head(std::int64_t head, const std::string& site, const std::string& key) const;
  // Past its context a model runs slowly and out of distribution: names prompts[i].max_tokens.
  void prompt_lengths(const std::vector<PromptSpec>& prompts) const;

 private:
  const ModelSpec& spec_;
  const ResolvedModel& model_;
};

}  // namespace sinklab::checkpoint
