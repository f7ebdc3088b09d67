#pragma once
// The `interventions:` section: named interventions on every variant's forward pass (ablations,
// the first token dropped or replaced, StreamingLLM's KV-cache policies) and which effects to
// report against the clean run.
#include <algorithm>
#include <string>
#include <vector>

#include "framework/config/fields.h"
#include "framework/hooks/hook_sites.h"
#include "framework/intervene/intervention.h"
#include "framework/util/error.h"

namespace sinklab::interventions {

// How the KV cache of a streamed run keeps the past (framework/model/attention.h).
struct KvPolicySpec {
  std::string policy = "full";  // full | window | sinks
  std::int64_t sink_tokens = 4;
  std::int64_t window = 256;
  template <class V>
  void fields(V& v) {
    v("policy", policy, "full (keep everything), window (the last `window` positions) or sinks (StreamingLLM: the "
      "first sink_tokens plus the last `window`)", Check::one_of({"full", "window", "sinks"}));
    v("sink_tokens", sink_tokens, "sinks: first positions always kept (StreamingLLM: 4)", Check::between(0, 1 << 20));
    v("window", window, "window, sinks: recent positions a query attends over, itself included",
      Check::between(1, 1 << 24));
  }
};

struct InterventionSpec {
  std::vector<Ablation> ablate;
  std::string first_token = "keep";
  std::string replace_with;
  std::optional<KvPolicySpec> kv;
  std::string reference;
  template <class V>
  void fields(V& v) {
    v("ablate", ablate, "edits applied in order: [{site, layers, heads, positions, tokens, dims, op, value}]");
    v("first_token", first_token, "keep, drop (e.g. BOS) or replace (by the first token of replace_with)",
      Check::one_of({"keep", "drop", "replace"}));
    v("replace_with", replace_with, "first_token: replace: text whose first token takes position 0");
    v("kv", kv, "read the prompt token by token through a KV cache: {policy, sink_tokens, window}");
    v("reference", reference, "prompt id whose clean run ops mean and resample read (mean: default the prompt itself)");
  }
  bool reads_reference() const {
    return std::any_of(ablate.begin(), ablate.end(), [](const Ablation& a) { return a.reads_reference(); });
  }
  void validate(const Decoder& d) const {
    if (first_token == "replace" && replace_with.empty()) d.fail("replace_with", "give the text of the replacing token");
    if (first_token != "replace" && !replace_with.empty()) d.fail("replace_with", "is only read with first_token: replace");
    if (kv)
      for (const auto& a : ablate) {
        if (!a.positions.empty() || !a.tokens.empty())
          d.fail("ablate", "positions and tokens cannot be chosen in a streamed (kv) run: each step is one position; "
                           "leave them out or drop `kv`");
        if (a.reads_reference())
          d.fail("ablate", fmt::format("op {} reads a one-pass reference run: not in a streamed (kv) run", a.op));
      }
    for (const auto& a : ablate)
      if (a.op == "resample" && reference.empty())
        d.fail("reference", "op resample needs the prompt id of the run it takes values from");
    if (!reference.empty() && !reads_reference()) d.fail("reference", "is only read by ops mean and resample");
  }
};

// A head whose attention to the first position is reported (the paper's release head).
struct HeadRef {
  std::int64_t layer = 0, head = 0;
  template <class V>
  void fields(V& v) {
    v("layer", layer, "0-based layer", Check::at_least(0));
    v("head", head, "0-based head", Check::at_least(0));
  }
};

// Activation patching over a grid, as TransformerLens's patching utilities do: the clean
// prompt's value of `site` patched into the corrupted prompt's run, one (layer, position) - or
// for a site with heads one (layer, head), all positions - at a time, scored by the logit
// difference of the answer over the wrong answer at the last position.
struct PatchingSpec {
  std::string name;
  std::string clean, corrupted;
  std::string site = "resid_pre";
  std::vector<std::int64_t> layers;
  std::string answer, wrong;
  template <class V>
  void fields(V& v) {
    v("name", name, "figure and group name", Check::required_non_empty());
    v("clean", clean, "prompt id whose activations are patched in", Check::required_non_empty());
    v("corrupted", corrupted, "prompt id run with the patch (per-position sites: as many tokens as clean)",
      Check::required_non_empty());
    v("site", site, "hook site to patch: per position (resid_pre, attn_out, ...) or per head (z, q, k, v, pattern)");
    v("layers", layers, "0-based layers (empty = all)", Check::at_least(0));
    v("answer", answer, "the clean prompt's answer: its text's first non-blank token", Check::required_non_empty());
    v("wrong", wrong, "the corrupted prompt's answer: its text's first non-blank token", Check::required_non_empty());
  }
  void validate(const Decoder& d) const {
    const HookSite* s = nullptr;
    try {
      s = &hook_site(site);
    } catch (const InputError& e) {
      d.fail("site", e.what());
    }
    if (s->short_name == "result") d.fail("site", "result is computed for hooks only: patch z");
    if (!s->per_block && !layers.empty()) d.fail("layers", fmt::format("site {} is model-level", s->short_name));
  }
};

struct Section {
  OrderedMap<InterventionSpec> entries;
  std::vector<PatchingSpec> patching;
  std::vector<std::string> prompts;
  double sink_epsilon = 0.3;
  std::vector<HeadRef> heads;
  template <class V>
  void fields(V& v) {
    v("entries", entries, "name -> intervention, each run against the clean model on every prompt");
    v("patching", patching, "activation patching grids: [{name, clean, corrupted, site, layers, answer, wrong}]");
    v("prompts", prompts, "prompt ids to run (empty = all)");
    v("sink_epsilon", sink_epsilon, "Sink-epsilon: the share of heads whose mean attention to position 0 exceeds "
      "this (Gu et al. 2024: 0.3)", Check::between(0, 1));
    v("heads", heads, "heads whose attention to position 0 is reported per intervention (e.g. the release head)");
  }
  void validate(const Decoder& d) const {
    if (entries.empty() && patching.empty()) d.fail("entries", "give at least one intervention or a patching grid");
    for (std::size_t i = 0; i < patching.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (patching[i].name == patching[j].name)
          d.fail("patching", fmt::format("two grids are named '{}'", patching[i].name));
    for (const auto& [name, e] : entries) {
      const bool safe = !name.empty() && name != "clean" && std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '_';
      });
      if (!safe)
        d.fail("entries", fmt::format("intervention name '{}' must use only letters, digits, '-' and '_' and not be "
                                      "'clean' (the run without interventions)", name));
    }
  }
};

}  // namespace sinklab::interventions
