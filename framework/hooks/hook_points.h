#pragma once
// Hook sites with TransformerLens names (DESIGN.md, "Hook sites"), and the activation cache a
// forward pass fills. A forward pass asks `wants(name)` before computing anything only a hook
// needs (attention probabilities, per-head results), so unrequested sites cost nothing.
#include <ATen/core/Tensor.h>

#include <functional>
#include <map>
#include <set>
#include <vector>
#include <string>

namespace sinklab {

// "blocks.3.attn.hook_pattern" from (3, "pattern") or (3, "attn.hook_pattern"); per-block short
// forms as in TransformerLens: resid_pre, q, k, v, attn_scores, pattern, z, result, attn_out,
// resid_mid, normalized (ln2), mlp_out, resid_post; plus ln1_normalized (the attention input) and post
// (mlp.hook_post, the input of the down projection), the inputs pruning calibrates on.
std::string hook_name(int layer, const std::string& site);

class HookPoints {
 public:
  static HookPoints none() { return HookPoints(false); }
  static HookPoints all() { return HookPoints(true); }
  static HookPoints only(std::set<std::string> names);
  // Hands each wanted site to `consumer` as soon as it is computed instead of keeping it, so a
  // reduction over every layer (sink scores, activation statistics) never holds all of them.
  using Consumer = std::function<void(const std::string& name, const at::Tensor& value)>;
  static HookPoints streaming(std::set<std::string> names, Consumer consumer);
  // Keep only these heads of a per-head site (pattern, attn_scores, q, k, v, z, result).
  void select_heads(const std::string& name, std::vector<std::int64_t> heads);
  bool wants(const std::string& name) const { return all_ || names_.count(name) > 0; }
  // Keeps a detached copy of `value` when `name` is wanted; `head_dim` is the dimension that
  // indexes heads (-1 for sites without one), for head selection.
  void record(const std::string& name, const at::Tensor& value, std::int64_t head_dim = -1);
  const std::map<std::string, at::Tensor>& cache() const { return cache_; }
  at::Tensor at(const std::string& name) const;  // InputError when it was not recorded

 private:
  explicit HookPoints(bool all) : all_(all) {}
  bool all_;
  std::set<std::string> names_;
  std::map<std::string, std::vector<std::int64_t>> heads_;
  std::map<std::string, at::Tensor> cache_;
  Consumer consumer_;
};

}  // namespace sinklab
