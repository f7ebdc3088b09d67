// Which sites the hook stage keeps, and the checks that run before anything is computed.
#include "experiments/catch_tag_release/experiment.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "experiments/catch_tag_release/stages.h"
#include "experiments/pruning/stages.h"
#include "experiments/evaluation/stages.h"
#include "framework/hooks/hook_points.h"
#include "framework/model/model_spec.h"
#include "framework/prune/methods.h"
#include "framework/util/system.h"
#include "framework/util/error.h"

namespace sinklab::catch_tag_release {

CatchTagReleaseExperiment::CatchTagReleaseExperiment(const RunConfig& config) : config_(config) {
  for (const auto& [name, spec] : ordered_variants(config_.variants))
    models_.push_back(resolve_model(*config_.model, name, spec));
  // Defaults that depend on other sections.
  std::set<std::string> names;
  for (auto& p : config_.pca) {
    if (p.prompt.empty()) p.prompt = config_.prompts.front().id;
    if (p.fit_prompt.empty()) p.fit_prompt = p.prompt;
    SINKLAB_INPUT_CHECK(names.insert(p.display_name()).second,
                        "pca: two entries are both named '{}'; give one a `name`", p.display_name());
  }
}

std::vector<SiteRequest> site_requests(const RunConfig& config_, std::int64_t layers) {
  struct Merged {
    std::int64_t layer = 0;
    bool all_heads = false;
    std::set<std::int64_t> heads;
  };
  std::map<std::pair<std::string, std::string>, Merged> merged;  // (prompt, hook) -> heads
  auto add = [&](const std::string& prompt, std::int64_t layer, const std::string& site,
                 const std::vector<std::int64_t>& heads) {
    Merged& m = merged[{prompt, hook_name(int(layer), site)}];
    m.layer = layer;
    if (heads.empty() || !is_per_head_site(site)) m.all_heads = true;
    m.heads.insert(heads.begin(), heads.end());
  };
  for (const auto& probe : config_.probes) {
    std::vector<std::int64_t> probe_layers = probe.layers;
    if (probe_layers.empty())
      for (std::int64_t l = 0; l < layers; ++l) probe_layers.push_back(l);
    for (const auto& prompt : config_.prompts) {
      if (!probe.prompts.empty() && std::find(probe.prompts.begin(), probe.prompts.end(), prompt.id) == probe.prompts.end())
        continue;
      for (auto l : probe_layers) add(prompt.id, l, probe.site, probe.heads);
    }
  }
  for (const auto& p : config_.pca) {
    std::vector<std::int64_t> heads;
    if (p.head >= 0) heads.push_back(p.head);
    add(p.prompt, p.layer, p.site, heads);
    add(p.fit_prompt, p.layer, p.site, heads);
  }
  std::vector<SiteRequest> out;
  for (const auto& [key, m] : merged) {
    SiteRequest r{key.first, m.layer, key.second, {}};
    if (!m.all_heads) r.heads.assign(m.heads.begin(), m.heads.end());
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::string> CatchTagReleaseExperiment::input_problems() const {
  std::vector<std::string> problems;
  const bool calibrates = std::any_of(config_.variants.begin(), config_.variants.end(), [](const auto& v) {
    return v.second.prune && prune_method(v.second.prune->method).needs_calibration;
  });
  if (calibrates && !std::filesystem::exists(resolve_data_path(config_.calibration->path)))
    problems.push_back(fmt::format("calibration.path: '{}' does not exist (the paper used C4's first shard, "
                                   "c4-train.00000-of-01024.json.gz; any text file, .jsonl/.json(.gz) or directory "
                                   "of them works{})", config_.calibration->path,
                                   std::getenv("SINKLAB_DATA") ? "" : "; SINKLAB_DATA is not set"));
  if (config_.eval && !config_.eval->data.empty() && !std::filesystem::exists(resolve_data_path(config_.eval->data)))
    problems.push_back(fmt::format("eval.data: '{}' does not exist ({}){}", config_.eval->data,
                                   config_.eval->task == "mmlu" ? "the MMLU release: dev/<subject>_dev.csv and "
                                                                  "test/<subject>_test.csv"
                                   : config_.eval->task == "hamexam" ? "apt-get install hamexam puts it in /usr/share/hamexam"
                                                                     : "a JSONL file of {question, choices, answer, subject}",
                                   std::getenv("SINKLAB_DATA") || config_.eval->task != "mmlu" ? "" : "; SINKLAB_DATA is not set"));
  for (const auto& m : models_) {
    if (auto p = m.problem(); !p.empty()) {
      if (std::find(problems.begin(), problems.end(), p) == problems.end()) problems.push_back(p);
      continue;
    }
    // The checkpoint is there: check every layer and head index against it now, not after an
    // hour of work in another stage.
    ModelSpec spec = ModelSpec::from_config_json((std::filesystem::path(m.dir) / "config.json").string());
    auto check_layer = [&](std::int64_t layer, const std::string& key) {
      SINKLAB_INPUT_CHECK(layer < spec.num_layers, "{}: layer {} does not exist: {} ({}) has layers 0..{}", key, layer,
                          m.display_name, spec.model_type, spec.num_layers - 1);
    };
    auto check_head = [&](std::int64_t head, const std::string& site, const std::string& key) {
      const std::string full = hook_name(0, site);
      const bool kv = full == "blocks.0.attn.hook_k" || full == "blocks.0.attn.hook_v";
      const std::int64_t n = kv ? spec.num_kv_heads : spec.num_heads;
      SINKLAB_INPUT_CHECK(head < n, "{}: head {} does not exist: {} has {} {}heads per layer (0..{})", key, head,
                          m.display_name, n, kv ? "key/value " : "", n - 1);
    };
    for (std::size_t i = 0; i < config_.probes.size(); ++i) {
      for (auto l : config_.probes[i].layers) check_layer(l, fmt::format("probes[{}].layers", i));
      for (auto h : config_.probes[i].heads) check_head(h, config_.probes[i].site, fmt::format("probes[{}].heads", i));
    }
    for (std::size_t i = 0; i < config_.pca.size(); ++i) {
      check_layer(config_.pca[i].layer, fmt::format("pca[{}].layer", i));
      if (config_.pca[i].head >= 0) check_head(config_.pca[i].head, config_.pca[i].site, fmt::format("pca[{}].head", i));
    }
    if (config_.metrics)
      for (auto l : config_.metrics->layers) check_layer(l, "metrics.layers");
    for (const auto& [name, v] : config_.variants)
      if (v.ablate_lowrank)
        for (auto l : v.ablate_lowrank->layers) check_layer(l, "variants." + name + ".ablate_lowrank.layers");
  }
  return problems;
}

std::vector<std::unique_ptr<Stage>> CatchTagReleaseExperiment::stages() const {
  std::vector<std::unique_ptr<Stage>> out = pruning::variant_stages(config_);
  std::vector<std::string> hook_stages;
  for (const auto& m : models_) {
    if (!config_.probes.empty() || !config_.pca.empty()) {
      out.push_back(make_hook_stage(config_, m));
      hook_stages.push_back(out.back()->name());
    }
    if (config_.metrics) out.push_back(make_metrics_stage(config_, m));
    if (config_.eval) out.push_back(evaluation::make_eval_stage(config_, m));
  }
  if (!config_.pca.empty()) out.push_back(make_pca_stage(config_, models_));
  // The report reads the prune stages' accounting too.
  return out;
}

}  // namespace sinklab::catch_tag_release
