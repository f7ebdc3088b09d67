// Which sites the hook stage keeps, the index checks that run before anything is computed, and
// the part's stages.
#include "experiments/catch_tag_release/part.h"

#include <algorithm>
#include <map>
#include <set>

#include "experiments/catch_tag_release/stages.h"
#include "experiments/checkpoint/index_checks.h"
#include "framework/hooks/hook_sites.h"
#include "framework/util/error.h"

namespace sinklab::catch_tag_release {

using checkpoint::PromptSpec;

CatchTagReleasePart::CatchTagReleasePart(Config config, const std::vector<PromptSpec>& prompts)
    : config_(std::move(config)) {
  std::set<std::string> names;
  for (auto& p : config_.pca) {
    if (p.prompt.empty()) p.prompt = prompts.front().id;
    if (p.fit_prompt.empty()) p.fit_prompt = p.prompt;
    SINKLAB_INPUT_CHECK(names.insert(p.display_name()).second,
                        "pca: two entries are both named '{}'; give one a `name`", p.display_name());
  }
}

std::vector<SiteRequest> site_requests(const Config& config, const std::vector<PromptSpec>& prompts, std::int64_t layers) {
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
    if (heads.empty() || !hook_site(site).has_heads()) m.all_heads = true;
    m.heads.insert(heads.begin(), heads.end());
  };
  for (const auto& probe : config.probes) {
    std::vector<std::int64_t> probe_layers = probe.layers;
    if (probe_layers.empty())
      for (std::int64_t l = 0; l < layers; ++l) probe_layers.push_back(l);
    for (const auto& prompt : prompts) {
      if (!probe.prompts.empty() && std::find(probe.prompts.begin(), probe.prompts.end(), prompt.id) == probe.prompts.end())
        continue;
      for (auto l : probe_layers) add(prompt.id, l, probe.site, probe.heads);
    }
  }
  for (const auto& p : config.pca) {
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

void CatchTagReleasePart::check_indices(const checkpoint::Inputs& inputs, const ModelSpec& spec,
                                        const checkpoint::ResolvedModel& m) const {
  const checkpoint::IndexChecks check(spec, m);
  for (std::size_t i = 0; i < config_.probes.size(); ++i) {
    const auto& probe = config_.probes[i];
    check.site(probe.site, fmt::format("probes[{}].site", i));
    for (auto l : probe.layers) check.layer(l, fmt::format("probes[{}].layers", i));
    for (auto h : probe.heads) check.head(h, probe.site, fmt::format("probes[{}].heads", i));
  }
  for (std::size_t i = 0; i < config_.pca.size(); ++i) {
    const auto& p = config_.pca[i];
    check.site(p.site, fmt::format("pca[{}].site", i));
    check.layer(p.layer, fmt::format("pca[{}].layer", i));
    if (p.head >= 0) check.head(p.head, p.site, fmt::format("pca[{}].head", i));
  }
  if (config_.metrics)
    for (auto l : config_.metrics->layers) check.layer(l, "metrics.layers");
  // Last, because it tokenizes. A prompt longer than the model's context runs, slowly and out of distribution: refused.
  check.prompt_lengths(inputs.prompts);
}

std::vector<std::unique_ptr<Stage>> CatchTagReleasePart::variant_stages(const checkpoint::Inputs& inputs,
                                                                        const checkpoint::ResolvedModel& m) const {
  std::vector<std::unique_ptr<Stage>> out;
  if (!config_.probes.empty() || !config_.pca.empty()) out.push_back(make_hook_stage(config_, inputs, m));
  if (config_.metrics) out.push_back(make_metrics_stage(*config_.metrics, inputs, m));
  return out;
}

std::vector<std::unique_ptr<Stage>> CatchTagReleasePart::combining_stages(const checkpoint::Inputs& inputs) const {
  std::vector<std::unique_ptr<Stage>> out;
  if (!config_.pca.empty()) out.push_back(make_pca_stage(config_.pca, inputs.models));
  return out;
}

nlohmann::ordered_json CatchTagReleasePart::report_reads() const {
  return {{"probes", encode_value(config_.probes)},
          {"pca", encode_value(config_.pca)},
          {"metrics", config_.metrics ? encode_value(*config_.metrics) : nlohmann::ordered_json()},
          {"figures", encode_value(config_.figures)}};
}

void CatchTagReleasePart::report(const RunView& run, const checkpoint::Inputs& inputs, const std::string& dir,
                                 nlohmann::ordered_json& summary) const {
  report_probes(run, inputs, dir);
  if (!config_.pca.empty()) report_pca(run, inputs, dir, summary["catch_tag_release"]);
  if (config_.metrics) report_metrics(run, inputs, dir, summary["catch_tag_release"]);
}

}  // namespace sinklab::catch_tag_release
