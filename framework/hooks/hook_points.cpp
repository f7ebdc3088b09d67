#include "framework/hooks/hook_points.h"

#include <ATen/ATen.h>

#include <vector>

#include "framework/util/error.h"
#include "framework/util/strings.h"

namespace sinklab {

std::string hook_name(int layer, const std::string& site) {
  static const std::map<std::string, std::string> sites{
      {"resid_pre", "hook_resid_pre"},         {"q", "attn.hook_q"},
      {"k", "attn.hook_k"},                    {"v", "attn.hook_v"},
      {"attn_scores", "attn.hook_attn_scores"}, {"pattern", "attn.hook_pattern"},
      {"z", "attn.hook_z"},                    {"result", "attn.hook_result"},
      {"attn_out", "hook_attn_out"},           {"resid_mid", "hook_resid_mid"},
      {"normalized", "ln2.hook_normalized"},   {"mlp_out", "hook_mlp_out"},
      {"ln1_normalized", "ln1.hook_normalized"}, {"post", "mlp.hook_post"},
      {"resid_post", "hook_resid_post"}};
  std::string full = site;
  if (auto it = sites.find(site); it != sites.end()) full = it->second;
  bool known = false;
  std::vector<std::string> names;
  for (const auto& [short_name, long_name] : sites) {
    names.push_back(short_name);
    known = known || long_name == full;
  }
  SINKLAB_INPUT_CHECK(known, "unknown hook site '{}'{}; sites: {}", site, did_you_mean(site, names), join(names, ", "));
  return "blocks." + std::to_string(layer) + "." + full;
}

HookPoints HookPoints::only(std::set<std::string> names) {
  HookPoints h(false);
  h.names_ = std::move(names);
  return h;
}

HookPoints HookPoints::streaming(std::set<std::string> names, Consumer consumer) {
  HookPoints h = only(std::move(names));
  h.consumer_ = std::move(consumer);
  return h;
}

void HookPoints::select_heads(const std::string& name, std::vector<std::int64_t> heads) {
  heads_[name] = std::move(heads);
}

void HookPoints::record(const std::string& name, const at::Tensor& value, std::int64_t head_dim) {
  if (!wants(name)) return;
  auto keep = [&](at::Tensor t) {
    if (consumer_) consumer_(name, t);
    else cache_[name] = std::move(t);
  };
  auto sel = heads_.find(name);
  if (sel == heads_.end() || head_dim < 0) {
    keep(value.detach());
    return;
  }
  for (auto h : sel->second)
    SINKLAB_INPUT_CHECK(h >= 0 && h < value.size(head_dim), "probe of {} asks for head {}, the layer has {}", name, h,
                        value.size(head_dim));
  auto index = at::tensor(sel->second, at::TensorOptions().dtype(at::kLong)).to(value.device());
  keep(value.detach().index_select(head_dim, index));
}

at::Tensor HookPoints::at(const std::string& name) const {
  auto it = cache_.find(name);
  SINKLAB_INPUT_CHECK(it != cache_.end(), "hook site '{}' was not recorded (was it requested?)", name);
  return it->second;
}

}  // namespace sinklab
