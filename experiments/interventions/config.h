#pragma once
// The `interventions:` section: named interventions on every variant's forward pass (ablations,
// the first token dropped or replaced, StreamingLLM's KV-cache policies) and which effects to
// report against the clean run.
#include <algorithm>
#include <string>
#include <vector>

#include "experiments/evaluation/config.h"
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
  std::string insert;
  std::optional<KvPolicySpec> kv;
  std::string reference;
  template <class V>
  void fields(V& v) {
    v("ablate", ablate, "edits applied in order: [{site, layers, heads, positions, tokens, dims, op, value}]");
    v("first_token", first_token, "keep, drop (e.g. BOS), replace (by the first token of replace_with) or insert (the "
      "first token of `insert` before position 0: a sink with no learned role)",
      Check::one_of({"keep", "drop", "replace", "insert"}));
    v("replace_with", replace_with, "first_token: replace: text whose first token takes position 0");
    v("insert", insert, "first_token: insert: text whose first token goes before position 0 (e.g. \"<s>\" or \"\\n\")");
    v("kv", kv, "read the prompt token by token through a KV cache: {policy, sink_tokens, window}");
    v("reference", reference, "prompt id whose clean run ops mean and resample read (mean: default the prompt itself)");
  }
  bool reads_massive_dims() const {
    return std::any_of(ablate.begin(), ablate.end(), [](const Ablation& a) { return a.massive_dims; });
  }
  // Whether an edit picks positions: few-shot scoring then runs each request in one pass.
  bool picks_positions() const {
    return std::any_of(ablate.begin(), ablate.end(), [](const Ablation& a) { return !a.positions.empty() || !a.tokens.empty(); });
  }
  bool reads_reference() const {
    return std::any_of(ablate.begin(), ablate.end(), [](const Ablation& a) { return a.reads_reference(); });
  }
  void validate(const Decoder& d) const {
    if (first_token == "replace" && replace_with.empty()) d.fail("replace_with", "give the text of the replacing token");
    if (first_token != "replace" && !replace_with.empty()) d.fail("replace_with", "is only read with first_token: replace");
    if (first_token == "insert" && insert.empty()) d.fail("insert", "give the text of the inserted token");
    if (first_token != "insert" && !insert.empty()) d.fail("insert", "is only read with first_token: insert");
    if (kv)
      for (const auto& a : ablate) {
        if (!a.positions.empty() || !a.tokens.empty())
          d.fail("ablate", "positions and tokens cannot be chosen in a streamed (kv) run: each step is one position; "
                           "leave them out or drop `kv`");
        if (a.reads_reference())
          d.fail("ablate", fmt::format("op {} reads a one-pass reference run: not in a streamed (kv) run", a.op));
        if (a.massive_dims) d.fail("ablate", "massive_dims are found in a one-pass clean run: not in a streamed (kv) run");
      }
    for (const auto& a : ablate)
      if (a.op == "resample" && reference.empty())
        d.fail("reference", "op resample needs the prompt id of the run it takes values from");
    if (!reference.empty() && !reads_reference()) d.fail("reference", "is only read by ops mean and resample");
  }
};

// Massive activations as Sun et al. define them (2024): |x| > abs and > ratio x the median |x|
// of its own token's state; counted per entry and picked by ablations' massive_dims.
struct MassiveSpec {
  double abs = 100;
  double ratio = 1000;
  template <class V>
  void fields(V& v) {
    v("abs", abs, "|x| above this (Sun et al.: 100; tiny models' outliers are smaller)", Check::at_least(0));
    v("ratio", ratio, "... and at least this many times its token's median |x| (Sun et al.: 1000)", Check::at_least(0));
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
  MassiveSpec massive;
  std::vector<HeadRef> heads;
  std::optional<evaluation::EvalSpec> eval;
  template <class V>
  void fields(V& v) {
    v("entries", entries, "name -> intervention, each run against the clean model on every prompt");
    v("patching", patching, "activation patching grids: [{name, clean, corrupted, site, layers, answer, wrong}]");
    v("prompts", prompts, "prompt ids to run (empty = all)");
    v("sink_epsilon", sink_epsilon, "Sink-epsilon: the share of heads whose mean attention to position 0 exceeds "
      "this (Gu et al. 2024: 0.3)", Check::between(0, 1));
    v("massive", massive, "massive activations (Sun et al.): {abs, ratio}, counted per entry, picked by massive_dims");
    v("heads", heads, "heads whose attention to position 0 is reported per intervention (e.g. the release head)");
    v("eval", eval, "few-shot accuracy under every entry (not kv ones), scored as the eval section does: {task, data, "
      "shots, subjects, limit, add_bos, scoring, batch_size}");
  }
  void validate(const Decoder& d) const {
    if (entries.empty() && patching.empty()) d.fail("entries", "give at least one intervention or a patching grid");
    for (std::size_t i = 0; i < patching.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (patching[i].name == patching[j].name)
          d.fail("patching", fmt::format("two grids are named '{}'", patching[i].name));
    if (eval) {
      if (eval->perplexity) d.fail("eval", "perplexity under interventions is each entry's NLL on the prompts: drop eval.perplexity");
      if (eval->data.empty()) d.fail("eval", "give eval.data, the question set");
      for (const auto& [name, e] : entries)
        for (const auto& a : e.ablate) {
          if (a.op == "resample")
            d.fail("eval", fmt::format("entry '{}': op resample takes a reference run's value at the same position, "
                                       "which few-shot requests of other lengths do not have; use mean", name));
          if (a.op == "mean" && e.reference.empty())
            d.fail("eval", fmt::format("entry '{}': op mean in few-shot scoring needs `reference`, the prompt whose "
                                       "mean it takes", name));
        }
    }
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
