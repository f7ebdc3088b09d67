#pragma once
// Perplexity of a token stream with a sliding window (as HuggingFace's guide computes it):
// windows of `window` tokens every `stride` tokens; each window scores only the tokens the
// previous one did not, with the tokens before them as context.
#include <cstdint>
#include <vector>

namespace sinklab {

class LanguageModel;

struct PerplexityResult {
  double nll_sum = 0;        // nats
  std::int64_t tokens = 0;   // scored tokens (all but the first)
  double perplexity() const;
};

PerplexityResult perplexity(const LanguageModel& model, const std::vector<std::int64_t>& tokens, int window, int stride);

}  // namespace sinklab
