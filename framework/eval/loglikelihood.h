#pragma once
// Log-likelihoods of continuations, as lm-evaluation-harness computes them: trailing whitespace
// of the context moves to the continuation, and the continuation's tokens are those of
// encode(context + continuation) after the context's own tokens. Two ways to compute them:
//   loglikelihood_naive   one forward pass over context + continuation per request
//   PrefixScorer          a KV cache of a prefix shared by many requests (the few-shot header
//                         of a subject), then one pass over the rest of each context, scoring
//                         every single-token continuation of it from the same logits
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "framework/hooks/hook_points.h"
#include "framework/model/attention.h"

namespace sinklab {

class LanguageModel;
class Tokenizer;

struct EncodedRequest {
  std::vector<std::int64_t> context, continuation;
};

// `add_bos`: prepend the tokenizer's special-token template (lm-eval's HF models do not unless
// add_bos_token is set; with an empty context the harness uses the EOS token, not done here).
EncodedRequest encode_pair(const Tokenizer& tokenizer, std::string context, std::string continuation, bool add_bos);

// `hooks` (e.g. an intervention's editors) runs in every forward pass; none when null.
double loglikelihood_naive(const LanguageModel& model, const EncodedRequest& request, HookPoints* hooks = nullptr);

class PrefixScorer {
 public:
  // `hooks` runs in every pass (the prefix's and each rest's, which see their own positions
  // only: editors that pick positions need loglikelihood_naive); none when null.
  explicit PrefixScorer(const LanguageModel& model, HookPoints* hooks = nullptr) : model_(model), hooks_(hooks) {}
  // Runs the model over `prefix` once and keeps its keys and values.
  void set_prefix(const std::vector<std::int64_t>& prefix);
  // Requests with one shared context (the choices of a question): their log-likelihoods.
  std::vector<double> score(const std::vector<EncodedRequest>& choices);
  // Several questions at once (their remaining context tokens left-padded into one batch after
  // the shared cache); questions with a multi-token continuation are scored one by one.
  std::vector<std::vector<double>> score_batch(const std::vector<std::vector<EncodedRequest>>& questions);
  std::int64_t reused_tokens() const { return reused_; }
  std::int64_t computed_tokens() const { return computed_; }

 private:
  HookPoints& hooks() const;
  const LanguageModel& model_;
  HookPoints* hooks_;
  mutable HookPoints none_ = HookPoints::none();
  std::vector<std::int64_t> prefix_;
  KvCache cache_;
  std::int64_t reused_ = 0, computed_ = 0;
};

}  // namespace sinklab
