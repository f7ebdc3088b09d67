#include "framework/eval/loglikelihood.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "framework/model/language_model.h"
#include "framework/tokenizer/tokenizer.h"
#include "framework/util/error.h"

namespace sinklab {
namespace {

at::Tensor ids_of(const std::vector<std::int64_t>& v) {
  return at::tensor(v, at::TensorOptions().dtype(at::kLong)).unsqueeze(0);
}

// Sum of log p(tokens[i] | ...) given log-probabilities [n, V] for the n positions before them.
double sum_logprob(const at::Tensor& logprobs, const std::vector<std::int64_t>& tokens) {
  double s = 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) s += logprobs[std::int64_t(i)][tokens[i]].item<double>();
  return s;
}

}  // namespace

EncodedRequest encode_pair(const Tokenizer& tokenizer, std::string context, std::string continuation, bool add_bos) {
  std::size_t n = context.size();
  while (n > 0 && std::isspace(static_cast<unsigned char>(context[n - 1]))) --n;
  continuation = context.substr(n) + continuation;
  context.resize(n);
  auto whole = tokenizer.encode(context + continuation, add_bos);
  EncodedRequest r;
  r.context = tokenizer.encode(context, add_bos);
  SINKLAB_CHECK(r.context.size() < whole.size(), "continuation '{}' adds no tokens", continuation);
  r.continuation.assign(whole.begin() + std::ptrdiff_t(r.context.size()), whole.end());
  // As the harness does: the context is taken from the whole encoding, so the two agree.
  r.context.assign(whole.begin(), whole.begin() + std::ptrdiff_t(r.context.size()));
  return r;
}

double loglikelihood_naive(const LanguageModel& model, const EncodedRequest& r, HookPoints* hooks) {
  at::NoGradGuard no_grad;
  std::vector<std::int64_t> all = r.context;
  all.insert(all.end(), r.continuation.begin(), r.continuation.end());
  SINKLAB_INPUT_CHECK(!r.context.empty(), "an empty context has nothing to condition on");
  HookPoints none = HookPoints::none();
  auto logits = model.forward(ids_of(all), hooks ? *hooks : none)[0];  // [T, V]
  auto lp = at::log_softmax(logits.narrow(0, std::int64_t(r.context.size()) - 1, std::int64_t(r.continuation.size())), -1);
  return sum_logprob(lp, r.continuation);
}

HookPoints& PrefixScorer::hooks() const { return hooks_ ? *hooks_ : none_; }

void PrefixScorer::set_prefix(const std::vector<std::int64_t>& prefix) {
  at::NoGradGuard no_grad;
  prefix_ = prefix;
  cache_ = KvCache();
  if (prefix_.empty()) return;
  model_.forward(ids_of(prefix_), hooks(), &cache_);
  computed_ += std::int64_t(prefix_.size());
}

std::vector<double> PrefixScorer::score(const std::vector<EncodedRequest>& choices) {
  at::NoGradGuard no_grad;
  SINKLAB_CHECK(!choices.empty(), "no choices to score");
  const auto& ctx = choices.front().context;
  for (const auto& c : choices) SINKLAB_CHECK(c.context == ctx, "choices of one question must share their context");
  SINKLAB_INPUT_CHECK(!ctx.empty(), "an empty context has nothing to condition on");
  // Reuse the longest common token prefix, but recompute at least the context's last token:
  // its logits predict the continuation.
  std::size_t p = 0;
  while (p < prefix_.size() && p < ctx.size() && prefix_[p] == ctx[p]) ++p;
  p = std::min(p, ctx.size() - 1);
  KvCache cache = cache_.prefix(std::int64_t(p));
  reused_ += std::int64_t(p);
  HookPoints& hooks = this->hooks();
  std::vector<std::int64_t> rest(ctx.begin() + std::ptrdiff_t(p), ctx.end());
  auto logits = model_.forward(ids_of(rest), hooks, &cache)[0];  // [rest, V]
  computed_ += std::int64_t(rest.size());
  auto last = at::log_softmax(logits[logits.size(0) - 1], -1);  // predicts the first continuation token
  std::vector<double> out;
  for (const auto& c : choices) {
    double ll = last[c.continuation.front()].item<double>();
    if (c.continuation.size() > 1) {  // the rest of a longer continuation, after the cached context
      KvCache more = cache;
      std::vector<std::int64_t> head(c.continuation.begin(), c.continuation.end() - 1), tail(c.continuation.begin() + 1,
                                                                                             c.continuation.end());
      auto lp = at::log_softmax(model_.forward(ids_of(head), hooks, &more)[0], -1);
      computed_ += std::int64_t(head.size());
      ll += sum_logprob(lp, tail);
    }
    out.push_back(ll);
  }
  return out;
}

std::vector<std::vector<double>> PrefixScorer::score_batch(const std::vector<std::vector<EncodedRequest>>& questions) {
  at::NoGradGuard no_grad;
  std::vector<std::vector<double>> out(questions.size());
  std::vector<std::size_t> batch;  // questions whose continuations are all one token
  for (std::size_t q = 0; q < questions.size(); ++q) {
    bool single = !questions[q].empty() && !questions[q].front().context.empty();
    for (const auto& c : questions[q]) single = single && c.continuation.size() == 1 && c.context == questions[q].front().context;
    if (single) batch.push_back(q);
    else out[q] = score(questions[q]);
  }
  if (batch.empty()) return out;
  // The cached prefix every question in the batch shares, keeping one fresh token each.
  std::size_t p = prefix_.size();
  for (auto q : batch) {
    const auto& ctx = questions[q].front().context;
    std::size_t m = 0;
    while (m < p && m < ctx.size() && prefix_[m] == ctx[m]) ++m;
    p = std::min({p, m, ctx.size() - 1});
  }
  std::size_t longest = 0;
  for (auto q : batch) longest = std::max(longest, questions[q].front().context.size() - p);
  const auto B = std::int64_t(batch.size()), L = std::int64_t(longest), P = std::int64_t(p);
  auto ids = at::zeros({B, L}, at::TensorOptions().dtype(at::kLong));
  auto mask = at::ones({B, P + L}, at::TensorOptions().dtype(at::kLong));
  for (std::int64_t b = 0; b < B; ++b) {
    const auto& ctx = questions[batch[std::size_t(b)]].front().context;
    const auto n = std::int64_t(ctx.size() - p), pad = L - n;  // left padding: every row ends at L - 1
    for (std::int64_t t = 0; t < n; ++t) ids[b][pad + t] = ctx[p + std::size_t(t)];
    if (pad > 0) mask[b].narrow(0, P, pad).zero_();
    computed_ += n;
    reused_ += P;
  }
  KvCache cache = cache_.prefix(P, B);
  auto logits = model_.forward(ids, hooks(), &cache, mask);          // [B, L, V]
  auto last = at::log_softmax(logits.select(1, L - 1), -1);       // [B, V]
  for (std::int64_t b = 0; b < B; ++b)
    for (const auto& c : questions[batch[std::size_t(b)]]) out[batch[std::size_t(b)]].push_back(last[b][c.continuation[0]].item<double>());
  return out;
}

}  // namespace sinklab
