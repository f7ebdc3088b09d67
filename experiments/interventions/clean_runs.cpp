#include "experiments/interventions/clean_runs.h"

#include <ATen/ATen.h>

#include "framework/analysis/sinks.h"
#include "framework/hooks/hook_sites.h"
#include "framework/model/language_model.h"
#include "framework/tokenizer/tokenizer.h"
#include "framework/util/error.h"

namespace sinklab::interventions {

namespace {
at::Tensor ids_of(const std::vector<std::int64_t>& ids) {
  return at::tensor(ids, at::TensorOptions().dtype(at::kLong)).unsqueeze(0);
}
}  // namespace

std::int64_t first_token_id(const InterventionSpec& e, const Tokenizer& tok) {
  const std::string& text = e.first_token == "insert" ? e.insert : e.replace_with;
  auto ids = tok.encode(text, false);
  SINKLAB_INPUT_CHECK(!ids.empty(), "{} '{}' encodes to no token", e.first_token == "insert" ? "insert" : "replace_with",
                      text);
  return ids.front();
}

std::set<std::string> ablated_site_names(const InterventionSpec& entry, std::int64_t num_layers) {
  std::set<std::string> names;
  for (const auto& a : entry.ablate)
    for (const auto& n : ablated_sites(a, num_layers)) names.insert(n);
  return names;
}

std::int64_t add_massive_dims(const at::Tensor& x, const MassiveSpec& massive, std::set<std::int64_t>& dims) {
  const at::Tensor found = massive_activations(x, massive.abs, massive.ratio);  // [N, 3]: position, dim, value
  for (std::int64_t i = 0; i < found.size(0); ++i) dims.insert(std::int64_t(found[i][1].item<double>()));
  return found.size(0);
}

std::map<std::string, at::Tensor> record_clean(const LanguageModel& model, const std::vector<std::int64_t>& ids,
                                               const std::set<std::string>& sites) {
  HookPoints record = HookPoints::only(sites);
  model.forward(ids_of(ids), record);
  return record.cache();
}

std::vector<std::int64_t> massive_dims_of(const LanguageModel& model, const std::vector<std::int64_t>& ids,
                                          const MassiveSpec& massive) {
  std::set<std::string> names;
  for (std::int64_t l = 0; l < model.spec().num_layers; ++l) names.insert(hook_name(int(l), "resid_post"));
  std::set<std::int64_t> dims;
  HookPoints hooks = HookPoints::streaming(names, [&](const std::string&, const at::Tensor& value) {
    add_massive_dims(value[0].to(at::kCPU).to(at::kDouble), massive, dims);
  });
  model.forward(ids_of(ids), hooks);
  return {dims.begin(), dims.end()};
}

}  // namespace sinklab::interventions
