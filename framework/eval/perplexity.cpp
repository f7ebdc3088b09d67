#include "framework/eval/perplexity.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>

#include "framework/model/language_model.h"
#include "framework/util/error.h"

namespace sinklab {

double PerplexityResult::perplexity() const { return tokens > 0 ? std::exp(nll_sum / double(tokens)) : NAN; }

PerplexityResult perplexity(const LanguageModel& model, const std::vector<std::int64_t>& tokens, int window, int stride) {
  at::NoGradGuard no_grad;
  SINKLAB_INPUT_CHECK(window >= 2 && stride >= 1 && stride <= window, "perplexity needs 2 <= window and 1 <= stride <= window");
  SINKLAB_INPUT_CHECK(tokens.size() >= 2, "perplexity needs at least 2 tokens");
  PerplexityResult r;
  const auto n = std::int64_t(tokens.size());
  std::int64_t scored_until = 1;  // token 0 has no context
  for (std::int64_t begin = 0; scored_until < n; begin += stride) {
    const std::int64_t end = std::min(begin + window, n);
    auto ids = at::tensor(std::vector<std::int64_t>(tokens.begin() + begin, tokens.begin() + end),
                          at::TensorOptions().dtype(at::kLong));
    auto lp = at::log_softmax(model.forward(ids.unsqueeze(0))[0], -1);  // [end - begin, V]
    for (std::int64_t t = std::max(scored_until, begin + 1); t < end; ++t)
      r.nll_sum -= lp[t - begin - 1][tokens[std::size_t(t)]].item<double>();
    r.tokens += end - std::max(scored_until, begin + 1);
    scored_until = end;
    if (end == n) break;
  }
  return r;
}

std::vector<double> streaming_nll(const LanguageModel& model, const std::vector<std::int64_t>& tokens,
                                  const std::optional<StreamingPolicy>& policy, HookPoints& hooks) {
  at::NoGradGuard no_grad;
  SINKLAB_INPUT_CHECK(tokens.size() >= 2, "a streamed perplexity needs at least 2 tokens");
  SINKLAB_INPUT_CHECK(!policy || (policy->sink_tokens >= 0 && policy->window >= 1),
                      "a streaming KV cache needs sink_tokens >= 0 and window >= 1");
  KvCache cache;
  cache.streaming = policy;
  cache.bounded = true;  // nothing here cuts a prefix: sliding layers may drop what no query sees
  std::vector<double> nll;
  nll.reserve(tokens.size() - 1);
  const auto ids = at::tensor(tokens, at::TensorOptions().dtype(at::kLong));
  for (std::size_t t = 0; t + 1 < tokens.size(); ++t) {
    auto logits = model.forward(ids.narrow(0, std::int64_t(t), 1).unsqueeze(0), hooks, &cache);  // [1, 1, V]
    auto lp = at::log_softmax(logits[0][0].to(at::kCPU).to(at::kDouble), -1);
    nll.push_back(-lp[tokens[t + 1]].item<double>());
  }
  return nll;
}

}  // namespace sinklab
