#pragma once
// The activation cache a forward pass fills, keyed by full hook names (hook_sites.h), and the
// edits (interventions) it applies on the way. A forward pass asks `wants(name)` before computing
// anything only a hook needs (attention probabilities, per-head results), so unrequested sites
// cost nothing.
#include <ATen/core/Tensor.h>

#include <functional>
#include <map>
#include <set>
#include <vector>
#include <string>

#include "framework/hooks/hook_sites.h"

namespace sinklab {

class HookPoints {
 public:
  static HookPoints none() { return HookPoints(false); }
  static HookPoints all() { return HookPoints(true); }
  static HookPoints only(std::set<std::string> names);
  // Hands each wanted site to `consumer` as soon as it is computed instead of keeping it, so a
  // reduction over every layer (sink scores, activation statistics) never holds all of them.
  using Consumer = std::function<void(const std::string& name, const at::Tensor& value)>;
  static HookPoints streaming(std::set<std::string> names, Consumer consumer);
  // Keep only these heads of a site with a head axis (pattern, attn_scores, q, k, v, z, result, ...).
  void select_heads(const std::string& name, std::vector<std::int64_t> heads);
  bool wants(const std::string& name) const { return all_ || names_.count(name) > 0; }
  // Keeps a detached copy of `value` [batch, <the site's shape>] when `name` is wanted; the
  // site table says which axis indexes heads, for head selection.
  void record(const std::string& name, const at::Tensor& value);
  // Interventions (TransformerLens's hooks that return a value): `editor` replaces the value of
  // `name` before it flows on through the model, and before it is recorded. Editors on one site
  // apply in the order they were added; each must keep the value's shape.
  using Editor = std::function<at::Tensor(const at::Tensor& value)>;
  void edit(const std::string& name, Editor editor);
  bool edits(const std::string& name) const { return editors_.count(name) > 0; }
  bool edits_anything() const { return !editors_.empty(); }
  // What the model calls at a site whose value flows on: the (edited) value, recorded when wanted.
  at::Tensor pass(const std::string& name, const at::Tensor& value);
  const std::map<std::string, at::Tensor>& cache() const { return cache_; }
  at::Tensor at(const std::string& name) const;  // InputError when it was not recorded

 private:
  explicit HookPoints(bool all) : all_(all) {}
  bool all_;
  std::set<std::string> names_;
  std::map<std::string, std::vector<std::int64_t>> heads_;
  std::map<std::string, at::Tensor> cache_;
  Consumer consumer_;
  std::map<std::string, std::vector<Editor>> editors_;
};

}  // namespace sinklab
