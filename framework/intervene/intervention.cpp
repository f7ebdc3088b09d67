#include "framework/intervene/intervention.h"

#include <ATen/ATen.h>

#include <algorithm>

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
  if (axes_of(s).position < 0 && (!positions.empty() || !tokens.empty()))
    d.fail(positions.empty() ? "tokens" : "positions", fmt::format("site {} has no position axis", s.short_name));
  const std::string d_model = "d_model]";
  if (massive_dims && (s.shape.size() < d_model.size() || s.shape.compare(s.shape.size() - d_model.size(), d_model.size(), d_model) != 0))
    d.fail("massive_dims", fmt::format("massive activations are residual-stream dims: site {} is {}, not [..., d_model]",
                                       s.short_name, s.shape));
  if (reads_reference() && axes_of(s).position < 0)
    d.fail("op", fmt::format("{} replaces values by a reference run's at positions: site {} has none", op, s.short_name));
}

std::optional<Ablation> at_tokens(const Ablation& a, const std::vector<std::string>& pieces) {
  Ablation out = a;
  out.tokens.clear();
  if (a.tokens.empty()) return out;
  std::vector<std::int64_t> found;
  for (std::size_t t = 0; t < pieces.size(); ++t)
    if (std::find(a.tokens.begin(), a.tokens.end(), pieces[t]) != a.tokens.end()) found.push_back(std::int64_t(t));
  if (found.empty() && a.positions.empty()) return std::nullopt;
  out.positions.insert(out.positions.end(), found.begin(), found.end());
  std::sort(out.positions.begin(), out.positions.end());
  out.positions.erase(std::unique(out.positions.begin(), out.positions.end()), out.positions.end());
  return out;
}

std::optional<Ablation> at_dims(const Ablation& a, const std::vector<std::int64_t>& found) {
  Ablation out = a;
  out.massive_dims = false;
  if (!a.massive_dims) return out;
  if (found.empty() && a.dims.empty()) return std::nullopt;
  out.dims.insert(out.dims.end(), found.begin(), found.end());
  std::sort(out.dims.begin(), out.dims.end());
  out.dims.erase(std::unique(out.dims.begin(), out.dims.end()), out.dims.end());
  return out;
}

std::vector<std::string> ablated_sites(const Ablation& a, std::int64_t num_layers) {
  const HookSite& site = hook_site(a.site);
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
  return names;
}

void add_ablation(const Ablation& a, std::int64_t num_layers, HookPoints& hooks,
                  const std::map<std::string, at::Tensor>& reference) {
  const HookSite& site = hook_site(a.site);
  SINKLAB_INPUT_CHECK(site.short_name != "result", "result is computed for hooks only: intervene on z instead");
  SINKLAB_CHECK(a.tokens.empty(), "an ablation's tokens must be resolved to positions (at_tokens) before it is added");
  SINKLAB_CHECK(!a.massive_dims, "an ablation's massive_dims must be resolved to dims (at_dims) before it is added");
  const Axes axes = axes_of(site);
  const bool by_reference = a.reads_reference();
  SINKLAB_INPUT_CHECK(!by_reference || axes.position >= 0, "op {} needs a site with a position axis; {} has none", a.op,
                      site.short_name);
  for (const auto& name : ablated_sites(a, num_layers)) {
    at::Tensor ref;
    if (by_reference) {
      auto it = reference.find(name);
      SINKLAB_INPUT_CHECK(it != reference.end(), "op {} on {} needs a reference run that recorded it", a.op, name);
      // mean: over the reference's positions (and batch), broadcast to any length.
      ref = a.op == "mean" ? it->second.mean(axes.position, /*keepdim=*/true).mean(0, /*keepdim=*/true) : it->second;
    }
    hooks.edit(name, [a, axes, name, ref](const at::Tensor& value) {
      const int last = int(value.dim()) - 1;
      const at::Tensor mask = selection(value, name, {{axes.head, &a.heads}, {axes.position, &a.positions}, {last, &a.dims}});
      if (a.op == "zero") return value.masked_fill(mask, 0.0);
      if (a.op == "set") return value.masked_fill(mask, a.value);
      if (a.op == "clamp") return at::where(mask, value.clamp(-std::abs(a.value), std::abs(a.value)), value);
      if (a.op == "scale") return at::where(mask, value * a.value, value);
      const at::Tensor r = ref.to(value.device(), value.scalar_type());
      if (a.op == "resample")
        SINKLAB_INPUT_CHECK(r.sizes() == value.sizes(), "resampling {}: the reference run's [{}] is not the target's [{}] "
                            "(give a reference prompt of the same length)", name, fmt::join(r.sizes(), ", "),
                            fmt::join(value.sizes(), ", "));
      return at::where(mask, r.expand_as(value), value);
    });
  }
}

void add_patch(const std::map<std::string, at::Tensor>& source, const std::vector<std::int64_t>& positions,
               HookPoints& hooks, const std::vector<std::int64_t>& heads) {
  for (const auto& entry : source) {
    const std::string name = entry.first;  // copies: a lambda cannot capture structured bindings (C++17)
    const at::Tensor patched = entry.second;
    const auto parsed = parse_hook_name(name);
    SINKLAB_INPUT_CHECK(parsed.has_value(), "no hook site '{}' to patch", name);
    const Axes axes = axes_of(*parsed->site);
    SINKLAB_INPUT_CHECK(positions.empty() || axes.position >= 0, "site {} has no position axis to patch at", name);
    SINKLAB_INPUT_CHECK(heads.empty() || axes.head >= 0, "site {} has no head axis to patch at", name);
    hooks.edit(name, [name, patched, positions, heads, axes](const at::Tensor& value) {
      SINKLAB_INPUT_CHECK(value.sizes() == patched.sizes(), "patching {}: the source run's [{}] is not the target's [{}]",
                          name, fmt::join(patched.sizes(), ", "), fmt::join(value.sizes(), ", "));
      const at::Tensor src = patched.to(value.device(), value.scalar_type());
      if (positions.empty() && heads.empty()) return src;
      return at::where(selection(value, name, {{axes.position, &positions}, {axes.head, &heads}}), src, value);
    });
  }
}

}  // namespace sinklab
