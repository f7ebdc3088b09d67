#include "framework/hooks/hook_points.h"

#include <ATen/ATen.h>

#include <vector>

#include "framework/util/error.h"

namespace sinklab {

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

void HookPoints::record(const std::string& name, const at::Tensor& value) {
  if (!wants(name)) return;
  auto keep = [&](at::Tensor t) {
    if (consumer_) consumer_(name, t);
    else cache_[name] = std::move(t);
  };
  auto sel = heads_.find(name);
  const auto parsed = sel == heads_.end() ? std::nullopt : parse_hook_name(name);
  if (!parsed || !parsed->site->has_heads()) {
    keep(value.detach());
    return;
  }
  const std::int64_t head_dim = parsed->site->head_axis + 1;  // + the batch axis
  for (auto h : sel->second)
    SINKLAB_INPUT_CHECK(h >= 0 && h < value.size(head_dim), "probe of {} asks for head {}, the layer has {}", name, h,
                        value.size(head_dim));
  auto index = at::tensor(sel->second, at::TensorOptions().dtype(at::kLong)).to(value.device());
  keep(value.detach().index_select(head_dim, index));
}

void HookPoints::edit(const std::string& name, Editor editor) {
  SINKLAB_INPUT_CHECK(parse_hook_name(name).has_value(), "no hook site '{}' to intervene on (`sinklab hooks` lists them)",
                      name);
  editors_[name].push_back(std::move(editor));
}

at::Tensor HookPoints::pass(const std::string& name, const at::Tensor& value) {
  if (editors_.empty()) {  // the common case: one comparison
    record(name, value);
    return value;
  }
  auto it = editors_.find(name);
  if (it == editors_.end()) {
    record(name, value);
    return value;
  }
  at::Tensor out = value;
  for (const auto& editor : it->second) {
    at::Tensor edited = editor(out);
    SINKLAB_INPUT_CHECK(edited.sizes() == out.sizes(), "an intervention on {} changed its shape [{}] to [{}]", name,
                        fmt::join(out.sizes(), ", "), fmt::join(edited.sizes(), ", "));
    out = edited.to(value.scalar_type());
  }
  record(name, out);
  return out;
}

at::Tensor HookPoints::at(const std::string& name) const {
  auto it = cache_.find(name);
  SINKLAB_INPUT_CHECK(it != cache_.end(), "hook site '{}' was not recorded (was it requested?)", name);
  return it->second;
}

}  // namespace sinklab
