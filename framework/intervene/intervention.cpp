#include "framework/intervene/intervention.h"

#include <ATen/ATen.h>

#include "framework/hooks/hook_sites.h"
#include "framework/util/error.h"

namespace sinklab {
namespace {

// The axes of a site's per-sequence shape, +1 for the batch axis in front.
struct Axes {
  int head = -1, position = -1;  // -1: the site has none
};
Axes axes_of(const HookSite& site) {
  Axes a;
  if (site.has_heads()) a.head = site.head_axis + 1;
  // [pos, ...] sites index positions first; attention maps [head, query, key] their queries.
  if (site.attention_map) a.position = 2;
  else if (site.shape.rfind("[pos", 0) == 0) a.position = 1;
  return a;
}

// A bool mask of `value`'s shape, true where every listed axis's index is listed.
at::Tensor selection(const at::Tensor& value, const std::string& name, const std::vector<std::pair<int, const std::vector<std::int64_t>*>>& axes) {
  at::Tensor mask = at::ones(value.sizes(), value.options().dtype(at::kBool));
  for (const auto& [axis, indices] : axes) {
    if (axis < 0 || indices->empty()) continue;
    const std::int64_t size = value.size(axis);
    at::Tensor keep = at::zeros({size}, value.options().dtype(at::kBool));
    for (auto i : *indices) {
      SINKLAB_INPUT_CHECK(i >= 0 && i < size, "an intervention on {} asks for index {} of axis {}, which has {}", name, i,
                          axis, size);
      keep[i] = true;
    }
    std::vector<std::int64_t> shape(std::size_t(value.dim()), 1);
    shape[std::size_t(axis)] = size;
    mask = mask & keep.view(shape);
  }
  return mask;
}

}  // namespace

void Ablation::validate(const Decoder& d) const {
  const HookSite* found = nullptr;
  try {
    found = &hook_site(site);
  } catch (const InputError& e) {
    d.fail("site", e.what());
  }
  const HookSite& s = *found;
  if (s.short_name == "result") d.fail("site", "result is computed for hooks only: edit z (each head's output before W_O)");
  if (!s.has_heads() && !heads.empty()) d.fail("heads", fmt::format("site {} has no head axis", s.short_name));
  if (!s.per_block && !layers.empty()) d.fail("layers", fmt::format("site {} is model-level: it has no layers", s.short_name));
  if (axes_of(s).position < 0 && !positions.empty())
    d.fail("positions", fmt::format("site {} has no position axis", s.short_name));
}

void add_ablation(const Ablation& a, std::int64_t num_layers, HookPoints& hooks) {
  const HookSite& site = hook_site(a.site);
  SINKLAB_INPUT_CHECK(site.short_name != "result", "result is computed for hooks only: intervene on z instead");
  const Axes axes = axes_of(site);
  std::vector<std::string> names;
  if (!site.per_block) {
    names.push_back(site.full_name(-1));
  } else if (a.layers.empty()) {
    for (std::int64_t l = 0; l < num_layers; ++l) names.push_back(site.full_name(int(l)));
  } else {
    for (auto l : a.layers) {
      SINKLAB_INPUT_CHECK(l >= 0 && l < num_layers, "an intervention on {} asks for layer {}: the model has layers 0..{}",
                          site.short_name, l, num_layers - 1);
      names.push_back(site.full_name(int(l)));
    }
  }
  for (const auto& name : names) {
    hooks.edit(name, [a, axes, name](const at::Tensor& value) {
      const int last = int(value.dim()) - 1;
      const at::Tensor mask = selection(value, name, {{axes.head, &a.heads}, {axes.position, &a.positions}, {last, &a.dims}});
      if (a.op == "zero") return value.masked_fill(mask, 0.0);
      if (a.op == "set") return value.masked_fill(mask, a.value);
      return at::where(mask, value * a.value, value);  // scale
    });
  }
}

void add_patch(const std::map<std::string, at::Tensor>& source, const std::vector<std::int64_t>& positions,
               HookPoints& hooks) {
  for (const auto& [name, patched] : source) {
    const auto parsed = parse_hook_name(name);
    SINKLAB_INPUT_CHECK(parsed.has_value(), "no hook site '{}' to patch", name);
    const int position_axis = axes_of(*parsed->site).position;
    SINKLAB_INPUT_CHECK(positions.empty() || position_axis >= 0, "site {} has no position axis to patch at", name);
    hooks.edit(name, [name, patched, positions, position_axis](const at::Tensor& value) {
      SINKLAB_INPUT_CHECK(value.sizes() == patched.sizes(), "patching {}: the source run's [{}] is not the target's [{}]",
                          name, fmt::join(patched.sizes(), ", "), fmt::join(value.sizes(), ", "));
      const at::Tensor src = patched.to(value.device(), value.scalar_type());
      if (positions.empty()) return src;
      return at::where(selection(value, name, {{position_axis, &positions}}), src, value);
    });
  }
}

}  // namespace sinklab
