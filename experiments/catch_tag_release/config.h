#pragma once
// Config of "catch, tag, release" on a real model (paper Section 2, Figs. 2 and 7-11): which
// hook sites to keep (`probes:`), which PCA colourings to draw (`pca:`), the sink / outlier /
// low-rank measurements (`metrics:`) and figure options (`figures:`). The model, prompts and
// variants come from the checkpoint experiment (experiments/checkpoint/inputs.h).
#include <optional>
#include <string>
#include <vector>

#include "framework/config/fields.h"

namespace sinklab::catch_tag_release {

// A hook site kept for some layers and heads (empty = all) of some prompts (empty = all).
struct Probe {
  std::string site;
  std::vector<std::int64_t> layers, heads;
  std::vector<std::string> prompts;
  bool plot = true;
  template <class V>
  void fields(V& v) {
    v("site", site, "TransformerLens hook site (framework/hooks/hook_sites.cpp; `sinklab hooks` lists them): "
      "pattern, attn_scores, q, k, rot_q, rot_k, v, z, result, resid_pre, attn_out, resid_mid, normalized, pre, post, "
      "mlp_out, resid_post, ...; short or full form", Check::required_non_empty());
    v("layers", layers, "0-based layers (empty = all)", Check::at_least(0));
    v("heads", heads, "0-based heads of a per-head site (empty = all)", Check::at_least(0));
    v("prompts", prompts, "prompt ids (empty = all)");
    v("plot", plot, "draw it: an attention map for pattern/attn_scores, the largest dimensions for the others");
  }
  void validate(const Decoder& d) const;
};

// One PCA colouring (paper Section 2, after Oquab et al. 2024).
struct PcaSpec {
  std::string name;
  std::string site;
  std::int64_t layer = 0;
  std::int64_t head = -1;
  std::string prompt, fit_prompt;
  int components = 3;
  bool exclude_first = true;
  bool joint = false;
  template <class V>
  void fields(V& v) {
    v("name", name, "figure and group name (default: site, layer, head and prompt)");
    v("site", site, "hook site whose token vectors are coloured (e.g. result = one head's output, normalized = "
      "the FFN input)", Check::required_non_empty());
    v("layer", layer, "0-based layer", Check::at_least(0));
    v("head", head, "0-based head, for sites with a head axis (q, k, v, z, result, ...); -1 otherwise", Check::at_least(-1));
    v("prompt", prompt, "prompt id to colour (default: the first prompt)");
    v("fit_prompt", fit_prompt, "prompt id to fit the components on (default: the coloured prompt)");
    v("components", components, "principal components: 3 (RGB) or 2 (RG)", Check::between(2, 3));
    v("exclude_first", exclude_first, "leave the first token out of the fit and the colour range (the BOS sink "
      "dominates otherwise); it is drawn grey");
    v("joint", joint, "fit once over all variants' tokens, so colours are comparable side by side");
  }
  void validate(const Decoder& d) const;
  std::string display_name() const;
};

struct MetricsSpec {
  double sink_epsilon = 0.3;
  int min_queries = 8;
  double massive_abs = 100.0;
  double massive_ratio = 1000.0;
  double outlier_ratio = 5.0;
  std::vector<std::int64_t> layers;
  std::vector<std::string> prompts;
  bool weights = true;
  template <class V>
  void fields(V& v) {
    v("sink_epsilon", sink_epsilon, "a head has a sink at k when alpha_k > epsilon (Gu et al.: 0.3)",
      Check::between(0, 1));
    v("min_queries", min_queries, "score only keys with at least this many queries at or after them",
      Check::at_least(1));
    v("massive_abs", massive_abs, "massive activation: |x| above this (Sun et al.: 100)", Check::at_least(0));
    v("massive_ratio", massive_ratio, "... and at least this many times its token's median |x| (Sun et al.: 1000)",
      Check::at_least(1));
    v("outlier_ratio", outlier_ratio, "outlier dimension: median over tokens of |x_d| / median |x| at least this",
      Check::greater_than(1));
    v("layers", layers, "0-based layers to measure (empty = all)", Check::at_least(0));
    v("prompts", prompts, "prompt ids to measure (empty = all)");
    v("weights", weights, "singular values and effective rank of W_Q W_K^T and W_V per head");
  }
};

struct FigureSpec {
  int max_tokens = 160;
  int activation_dims = 32;
  template <class V>
  void fields(V& v) {
    v("max_tokens", max_tokens, "attention maps and activation plots show at most this many tokens (cropped, "
      "with a note)", Check::between(8, 4096));
    v("activation_dims", activation_dims, "activation plots show this many dimensions (largest |x| first)",
      Check::between(1, 512));
  }
};

// The part's whole config, gathered from the run config's sections.
struct Config {
  std::vector<Probe> probes;
  std::vector<PcaSpec> pca;
  std::optional<MetricsSpec> metrics;
  FigureSpec figures;
};

}  // namespace sinklab::catch_tag_release
