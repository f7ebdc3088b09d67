#pragma once
// The stages of the catch-tag-release experiment (see experiment.h) and what they share.
#include <memory>
#include <string>
#include <vector>

#include "experiments/run_config.h"
#include "framework/model/language_model.h"
#include "framework/model/tokenizer/tokenizer.h"
#include "framework/runner/stage.h"

namespace sinklab::catch_tag_release {

inline std::string hook_stage_name(const std::string& variant) { return "hook." + variant; }
inline std::string metrics_stage_name(const std::string& variant) { return "metrics." + variant; }
inline const char* kPcaStage = "pca";

std::unique_ptr<Stage> make_hook_stage(const RunConfig& config, const ResolvedModel& model);
std::unique_ptr<Stage> make_metrics_stage(const RunConfig& config, const ResolvedModel& model);
std::unique_ptr<Stage> make_pca_stage(const RunConfig& config, const std::vector<ResolvedModel>& models);

// A variant's model and tokenizer, loaded onto `device`.
struct LoadedModel {
  std::unique_ptr<LanguageModel> model;
  Tokenizer tokenizer;
};
LoadedModel load_model(const ResolvedModel& model, StageContext& ctx);

// What the cache key of a stage that runs prompts through a variant depends on.
nlohmann::ordered_json model_reads(const ResolvedModel& model);
nlohmann::ordered_json prompt_reads(const std::vector<PromptSpec>& prompts);

// Writes the prompt's ids [T], token pieces [T] (strings), offsets [T, 2] and decoded text
// under `group`.
void write_prompt_tokens(Hdf5File& out, const std::string& group, const TokenizedPrompt& prompt);

}  // namespace sinklab::catch_tag_release
