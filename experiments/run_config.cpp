#include "experiments/run_config.h"

#include <algorithm>
#include <cctype>

#include "framework/prune/methods.h"
#include "framework/util/strings.h"

namespace sinklab {

// Cross-references between the model sections: every prompt id named exists, and a model has
// something to do.
void RunConfig::validate_model_sections(const Decoder& d) const {
  const bool uses_model =
      !prompts.empty() || !variants.empty() || !probes.empty() || !pca.empty() || metrics || calibration || eval ||
      interventions;
  if (!model) {
    if (uses_model) d.fail("model", "prompts, variants, probes, pca and metrics need a model: add 'model: {path: ...}'");
    return;
  }
  const bool analyses = !probes.empty() || !pca.empty() || metrics || interventions;
  const bool prunes = std::any_of(variants.begin(), variants.end(), [](const auto& v) { return v.second.prune.has_value(); });
  if (analyses && prompts.empty())
    d.fail("prompts", "give at least one prompt: [{id: p1, text: \"...\"}] or [{id: p1, file: ...}]");
  checkpoint::check_unique_ids(prompts, d, "prompts");
  if (!analyses && !prunes && !eval)
    d.fail("model", "the model has nothing to do: add probes, pca, metrics, eval, interventions or a pruned variant");
  std::vector<std::string> ids;
  for (const auto& p : prompts) ids.push_back(p.id);
  auto known = [&](const std::string& id, const std::string& key) {
    if (!id.empty() && std::find(ids.begin(), ids.end(), id) == ids.end())
      d.fail(key, fmt::format("no prompt '{}'{}; prompts: {}", id, did_you_mean(id, ids), join(ids, ", ")));
  };
  for (std::size_t i = 0; i < probes.size(); ++i)
    for (const auto& id : probes[i].prompts) known(id, fmt::format("probes[{}].prompts", i));
  for (std::size_t i = 0; i < pca.size(); ++i) {
    known(pca[i].prompt, fmt::format("pca[{}].prompt", i));
    known(pca[i].fit_prompt, fmt::format("pca[{}].fit_prompt", i));
  }
  if (metrics)
    for (const auto& id : metrics->prompts) known(id, "metrics.prompts");
  if (interventions) {
    for (const auto& id : interventions->prompts) known(id, "interventions.prompts");
    for (const auto& [name, e] : interventions->entries) known(e.reference, "interventions.entries." + name + ".reference");
    for (std::size_t i = 0; i < interventions->patching.size(); ++i) {
      known(interventions->patching[i].clean, fmt::format("interventions.patching[{}].clean", i));
      known(interventions->patching[i].corrupted, fmt::format("interventions.patching[{}].corrupted", i));
    }
  }
  for (const auto& [name, v] : variants) {
    const std::string key = "variants." + name;
    if (v.prune && !v.path.empty())
      d.fail("variants", fmt::format("{}: a pruned variant prunes model.path; remove `path`", key));
    if (v.prune && prune_method(v.prune->method).needs_calibration && !calibration)
      d.fail("calibration", fmt::format("{} prunes with {}, which needs calibration data: add calibration: {{path: ..., "
                                        "samples: 128, seq_len: 2048}}", key, v.prune->method));
    if (v.ablate_lowrank) {
      auto from = variants.find(v.from);
      if (from == variants.end() || !from->second.prune || from->second.prune->method != "oats")
        d.fail("variants", fmt::format("{}.from: '{}' must name a variant pruned with oats (its low-rank terms are "
                                       "what ablate_lowrank removes)", key, v.from));
      if (v.prune) d.fail("variants", fmt::format("{}: give either prune or ablate_lowrank, not both", key));
    } else if (!v.from.empty()) {
      d.fail("variants", fmt::format("{}.from is only used with ablate_lowrank", key));
    }
    bool safe = !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
      return std::isalnum(c) || c == '-' || c == '_';
    });
    if (!safe) d.fail("variants", fmt::format("variant name '{}' must use only letters, digits, '-' and '_'", name));
  }
}

void RunConfig::validate(const Decoder& d) const {
  bool safe = std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
  if (!safe || name == "." || name == "..")
    d.fail("name", fmt::format("'{}' must use only letters, digits, '-', '_' and '.' (it names a directory)", name));
  // A directory name has at most 255 bytes; the run's hidden partial and sweep ids add to it.
  if (name.size() > 128) d.fail("name", fmt::format("is {} characters long: at most 128 (it names a directory)", name.size()));
  if (device != "auto" && device != "cpu" && device.rfind("cuda", 0) != 0)
    d.fail("device", fmt::format("'{}' is not a device: use cpu, cuda, cuda:N or auto", device));
  if (!theorem41 && !toy_learned && !model)
    d.fail("theorem41", "the config has no experiment section: add one, e.g. 'theorem41: {}', 'toy_learned: {...}' "
                        "or 'model: {path: ...}' with probes, pca or metrics");
  validate_model_sections(d);
}

}  // namespace sinklab
