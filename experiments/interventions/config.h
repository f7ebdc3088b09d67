#pragma once
// The `interventions:` section: named interventions on every variant's forward pass (ablations,
// the first token dropped or replaced, StreamingLLM's KV-cache policies) and which effects to
// report against the clean run.
#include <algorithm>
#include <string>
#include <vector>

#include "framework/config/fields.h"
#include "framework/intervene/intervention.h"

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
  template <class V>
  void fields(V& v) {
    v("ablate", ablate, "edits applied in order: [{site, layers, heads, positions, dims, op, value}]");
    v("first_token", first_token, "keep, drop (e.g. BOS) or replace (by the first token of replace_with)",
      Check::one_of({"keep", "drop", "replace"}));
    v("replace_with", replace_with, "first_token: replace: text whose first token takes position 0");
    v("kv", kv, "read the prompt token by token through a KV cache: {policy, sink_tokens, window}");
  }
  void validate(const Decoder& d) const {
    if (first_token == "replace" && replace_with.empty()) d.fail("replace_with", "give the text of the replacing token");
    if (first_token != "replace" && !replace_with.empty()) d.fail("replace_with", "is only read with first_token: replace");
    if (kv)
      for (const auto& a : ablate)
        if (!a.positions.empty())
          d.fail("ablate", "positions cannot be chosen in a streamed (kv) run: each step is one position; leave "
                           "`positions` out or drop `kv`");
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

struct Section {
  OrderedMap<InterventionSpec> entries;
  std::vector<std::string> prompts;
  double sink_epsilon = 0.3;
  std::vector<HeadRef> heads;
  template <class V>
  void fields(V& v) {
    v("entries", entries, "name -> intervention, each run against the clean model on every prompt",
      Check::required_non_empty());
    v("prompts", prompts, "prompt ids to run (empty = all)");
    v("sink_epsilon", sink_epsilon, "Sink-epsilon: the share of heads whose mean attention to position 0 exceeds "
      "this (Gu et al. 2024: 0.3)", Check::between(0, 1));
    v("heads", heads, "heads whose attention to position 0 is reported per intervention (e.g. the release head)");
  }
  void validate(const Decoder& d) const {
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
