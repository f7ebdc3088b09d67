#include "experiments/pruning/part.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "experiments/checkpoint/stage_names.h"
#include "experiments/pruning/stages.h"
#include "framework/prune/methods.h"
#include "framework/util/error.h"
#include "framework/util/system.h"
#include "framework/util/tensors.h"

namespace fs = std::filesystem;

namespace sinklab::pruning {

using checkpoint::VariantSpec;
namespace stage_names = checkpoint::stage_names;

bool has_pruned_variants(const std::map<std::string, VariantSpec>& variants) {
  return std::any_of(variants.begin(), variants.end(),
                     [](const auto& v) { return v.second.prune.has_value() || v.second.ablate_lowrank.has_value(); });
}

std::vector<std::unique_ptr<Stage>> PruningPart::checkpoint_stages(const checkpoint::Inputs& inputs) const {
  std::vector<std::unique_ptr<Stage>> out;
  bool calibrate = false;
  for (const auto& [name, spec] : checkpoint::ordered_variants(inputs.variants)) {
    if (spec.prune) {
      auto base = checkpoint::resolve_model(inputs.model, name, spec);
      base.source_stage.clear();  // prune reads model.path itself
      out.push_back(make_prune_stage(base, *spec.prune, calibration_));
      calibrate = calibrate || !out.back()->upstream().empty();
    }
    if (spec.ablate_lowrank) {
      const VariantSpec& from = inputs.variants.at(spec.from);
      const std::string dtype = from.dtype.empty() ? inputs.model.dtype : from.dtype;
      out.push_back(make_ablate_stage(name, spec.from, dtype, *spec.ablate_lowrank));
    }
  }
  if (calibrate) {
    auto base = checkpoint::resolve_model(inputs.model, "dense", {});
    out.insert(out.begin(), make_calibrate_stage(*calibration_, (fs::path(base.dir) / "tokenizer.json").string()));
  }
  return out;
}

void PruningPart::report(const RunView& run, const checkpoint::Inputs& inputs, const std::string&,
                         nlohmann::ordered_json& summary) const {
  // What each method removed: the numbers behind "which methods kept which sinks".
  for (const auto& m : inputs.models) {
    const std::string stage = "/" + stage_names::prune(m.variant);
    if (!run.has(stage)) continue;
    auto& js = summary["pruning"][m.variant];
    js = {{"method", inputs.variants.at(m.variant).prune->method},
          {"sparsity", std::get<double>(*run.attr(stage, "sparsity"))},
          {"parameter_fraction", std::get<double>(*run.attr(stage, "parameter_fraction"))},
          {"seconds", to_doubles(run.read(stage + "/block_seconds"))}};
    // Reconstruction error ||W - W'||_F / ||W||_F over the pruned matrices (sweeps plot these).
    const auto error = to_doubles(run.read(stage + "/matrices/relative_error"));
    if (!error.empty()) {
      double sum = 0, max = 0;
      for (double e : error) sum += e, max = std::max(max, e);
      js["relative_error_mean"] = sum / double(error.size());
      js["relative_error_max"] = max;
    }
  }
}

std::vector<std::string> PruningPart::input_problems(const checkpoint::Inputs& inputs) const {
  const bool calibrates = std::any_of(inputs.variants.begin(), inputs.variants.end(), [](const auto& v) {
    return v.second.prune && prune_method(v.second.prune->method).needs_calibration;
  });
  if (!calibrates || fs::exists(resolve_data_path(calibration_->path))) return {};
  return {fmt::format("calibration.path: '{}' does not exist (the paper used C4's first shard, "
                      "c4-train.00000-of-01024.json.gz; any text file, .jsonl/.json(.gz) or directory of them works{})",
                      calibration_->path, std::getenv("SINKLAB_DATA") ? "" : "; SINKLAB_DATA is not set")};
}

void PruningPart::check_indices(const checkpoint::Inputs& inputs, const ModelSpec& spec,
                                const checkpoint::ResolvedModel& m) const {
  auto v = inputs.variants.find(m.variant);
  if (v == inputs.variants.end() || !v->second.ablate_lowrank) return;
  for (auto l : v->second.ablate_lowrank->layers)
    SINKLAB_INPUT_CHECK(l < spec.num_layers, "variants.{}.ablate_lowrank.layers: layer {} does not exist: {} ({}) has layers 0..{}",
                        m.variant, l, m.display_name, spec.model_type, spec.num_layers - 1);
}

}  // namespace sinklab::pruning
