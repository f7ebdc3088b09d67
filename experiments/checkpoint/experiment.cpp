#include "experiments/checkpoint/experiment.h"

#include <algorithm>
#include <filesystem>

#include "experiments/checkpoint/stage_names.h"

namespace sinklab::checkpoint {

CheckpointExperiment::CheckpointExperiment(ModelSection model, std::vector<PromptSpec> prompts,
                                           std::map<std::string, VariantSpec> variants, std::vector<std::unique_ptr<Part>> parts)
    : parts_(std::move(parts)) {
  inputs_.model = std::move(model);
  inputs_.prompts = std::move(prompts);
  inputs_.variants = std::move(variants);
  for (const auto& [name, spec] : ordered_variants(inputs_.variants))
    inputs_.models.push_back(resolve_model(inputs_.model, name, spec));
  inputs_.pool = std::make_shared<ModelPool>();
}

std::vector<std::unique_ptr<Stage>> CheckpointExperiment::stages() const {
  std::vector<std::unique_ptr<Stage>> out;
  auto append = [&](std::vector<std::unique_ptr<Stage>> stages) {
    for (auto& s : stages) out.push_back(std::move(s));
  };
  for (const auto& part : parts_) append(part->checkpoint_stages(inputs_));
  for (const auto& m : inputs_.models)  // variant by variant: each model is loaded once (part.h)
    for (const auto& part : parts_) append(part->variant_stages(inputs_, m));
  for (const auto& part : parts_) append(part->combining_stages(inputs_));
  return out;
}

void CheckpointExperiment::report(const RunView& run, const std::string& dir, nlohmann::ordered_json& summary) const {
  inputs_.pool->release();  // the report reads the run only: a 14B model need not stay loaded while it draws
  auto& js = summary[stage_names::experiment];
  js["model"] = inputs_.models.front().display_name;
  js["indices"] = "layers, heads and positions are 0-based";
  js["variants"] = nlohmann::ordered_json::array();
  for (const auto& m : inputs_.models) js["variants"].push_back(m.variant);
  for (const auto& part : parts_) part->report(run, inputs_, dir, summary);
}

nlohmann::ordered_json CheckpointExperiment::report_reads() const {
  nlohmann::ordered_json parts = nlohmann::ordered_json::array();
  for (const auto& part : parts_) parts.push_back(part->report_reads());
  return {{"model", encode_value(inputs_.model)},
          {"prompts", prompt_reads(inputs_.prompts)},
          {"variants", encode_value(inputs_.variants)},
          {"parts", parts}};
}

std::vector<std::string> CheckpointExperiment::input_problems() const {
  std::vector<std::string> problems;
  auto add = [&](const std::string& p) {
    if (std::find(problems.begin(), problems.end(), p) == problems.end()) problems.push_back(p);
  };
  for (const auto& part : parts_)
    for (const auto& p : part->input_problems(inputs_)) add(p);
  for (const auto& m : inputs_.models) {
    if (auto p = m.problem(); !p.empty()) {
      add(p);
      continue;
    }
    const ModelSpec spec = ModelSpec::from_config_json((std::filesystem::path(m.dir) / "config.json").string());
    for (const auto& part : parts_) part->check_indices(inputs_, spec, m);
  }
  return problems;
}

}  // namespace sinklab::checkpoint
