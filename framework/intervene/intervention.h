#pragma once
// Interventions on a forward pass, the way the field tests causal claims: ablate a hook site
// (zero it, scale it, set it) at chosen layers, heads, positions and dimensions - e.g. zero the
// tag dimension of the residual stream at the first token, or knock out a head by zeroing its z -
// and activation patching (a source run's value of a site written into a target run). Each
// becomes HookPoints editors (hooks/hook_points.h), so every model, family and variant takes them.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "framework/config/fields.h"
#include "framework/hooks/hook_points.h"

namespace sinklab {

struct Ablation {
  std::string site;                     // hook site (short, long or full name)
  std::vector<std::int64_t> layers;     // per-block sites: empty = every layer
  std::vector<std::int64_t> heads;      // sites with a head axis: empty = every head
  std::vector<std::int64_t> positions;  // token positions (an attention map's queries): empty = all
  std::vector<std::int64_t> dims;       // the last axis (d_model, d_head, d_mlp; an attention map's keys): empty = all
  std::string op = "zero";              // zero | scale | set | clamp | mean | resample
  double value = 0;                     // scale: the factor; set: the value written; clamp: the bound of |x|
  std::vector<std::string> tokens;      // also the positions whose token text is one of these (at_tokens)
  bool massive_dims = false;            // also the dims of the clean run's massive activations (at_dims)
  template <class V>
  void fields(V& v) {
    v("site", site, "hook site to edit (`sinklab hooks` lists them; result cannot be edited: use z)",
      Check::required_non_empty());
    v("layers", layers, "0-based layers (empty = every layer)", Check::at_least(0));
    v("heads", heads, "0-based heads of a per-head site (empty = all)", Check::at_least(0));
    v("positions", positions, "0-based token positions; an attention map's query positions (empty = all)",
      Check::at_least(0));
    v("tokens", tokens, "positions whose token text (as the tokenizer decodes it, e.g. \"<s>\", \".\", \"\\n\") is "
      "one of these, besides `positions`; none found: the edit does nothing");
    v("dims", dims, "indices of the last axis: d_model / d_head / d_mlp dims, an attention map's keys (empty = all)",
      Check::at_least(0));
    v("op", op, "zero, scale (multiply by value), set (write value), clamp (|x| <= value), mean (the reference run's "
      "mean over positions) or resample (the reference run's value at the same position)",
      Check::one_of({"zero", "scale", "set", "clamp", "mean", "resample"}));
    v("value", value, "the factor of scale, the value of set, the bound of clamp");
    v("massive_dims", massive_dims, "also the dims where the clean run has massive activations (interventions.massive: "
      "Sun et al.'s |x| > abs and > ratio x its token's median, any layer's resid_post); none found: the edit does nothing");
  }
  void validate(const Decoder& d) const;
  bool reads_reference() const { return op == "mean" || op == "resample"; }  // needs a reference run's values
};

// `ablation` with `tokens` turned into positions of a sequence whose tokens decode to `pieces`
// (added to `positions`); nullopt when it names tokens and none of them occurs (then it edits
// nothing, where empty positions would mean all of them).
std::optional<Ablation> at_tokens(const Ablation& ablation, const std::vector<std::string>& pieces);

// `ablation` with `massive_dims` turned into dims: `found` (the clean run's massive dims) added
// to `dims`; nullopt when it asks for them and none was found.
std::optional<Ablation> at_dims(const Ablation& ablation, const std::vector<std::int64_t>& found);

// The sites `ablation` edits (full hook names) for a model of `num_layers` blocks.
std::vector<std::string> ablated_sites(const Ablation& ablation, std::int64_t num_layers);

// Adds `ablation`'s editors to `hooks` for a model of `num_layers` blocks. Indices beyond a
// tensor's axis are InputErrors naming the site, the axis and its size (checked when it runs).
// Ops mean and resample read `reference`: a reference run's recorded values of ablated_sites
// (full hook names -> [B, ...]; resample needs the target's shape). Tokens must be resolved
// (at_tokens) first.
void add_ablation(const Ablation& ablation, std::int64_t num_layers, HookPoints& hooks,
                  const std::map<std::string, at::Tensor>& reference = {});

// Activation patching: every value `source` recorded (full hook names -> [B, ...] tensors, e.g.
// a clean prompt's run) replaces the target run's value of that site at `positions` and, for a
// site with a head axis, `heads` (all when empty); both runs must have the same shapes there.
void add_patch(const std::map<std::string, at::Tensor>& source, const std::vector<std::int64_t>& positions,
               HookPoints& hooks, const std::vector<std::int64_t>& heads = {});

}  // namespace sinklab
