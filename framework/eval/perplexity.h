#pragma once
// Perplexity of a token stream with a sliding window (as HuggingFace's guide computes it):
// windows of `window` tokens every `stride` tokens; each window scores only the tokens the
// previous one did not, with the tokens before them as context.
#include <cstdint>
#include <optional>
#include <vector>

#include "framework/hooks/hook_points.h"
#include "framework/model/attention.h"

namespace sinklab {

class LanguageModel;

struct PerplexityResult {
  double nll_sum = 0;        // nats
  std::int64_t tokens = 0;   // scored tokens (all but the first)
  double perplexity() const;
};

PerplexityResult perplexity(const LanguageModel& model, const std::vector<std::int64_t>& tokens, int window, int stride);

// Token by token through a KV cache, as a stream is read: the first token, then one at a time,
// each seeing what the cache kept (everything, or StreamingLLM's sinks + window). Returns the
// NLL in nats of tokens[1..], [T - 1]. `hooks` is every step's (its editors apply at each step,
// where the step's one token is position 0 of the site's value).
std::vector<double> streaming_nll(const LanguageModel& model, const std::vector<std::int64_t>& tokens,
                                  const std::optional<StreamingPolicy>& policy, HookPoints& hooks);

}  // namespace sinklab
