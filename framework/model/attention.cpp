#include "framework/model/attention.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "framework/util/error.h"

namespace sinklab {

std::pair<at::Tensor, at::Tensor> KvCache::append(std::size_t layer, std::size_t layers, const at::Tensor& k_new,
                                                  const at::Tensor& v_new, std::int64_t keep) {
  if (k.empty()) k.resize(layers), v.resize(layers);
  at::Tensor k_all = k[layer].defined() ? at::cat({k[layer], k_new}, 2) : k_new;
  at::Tensor v_all = v[layer].defined() ? at::cat({v[layer], v_new}, 2) : v_new;
  const std::int64_t S = k_all.size(2);
  if (streaming) {
    const std::int64_t sinks = streaming->sink_tokens, recent = streaming->window - 1;
    if (S > sinks + recent) {  // copies, for the reason below
      k[layer] = at::cat({k_all.narrow(2, 0, sinks), k_all.narrow(2, S - recent, recent)}, 2);
      v[layer] = at::cat({v_all.narrow(2, 0, sinks), v_all.narrow(2, S - recent, recent)}, 2);
    } else {
      k[layer] = k_all, v[layer] = v_all;
    }
    return {k_all, v_all};
  }
  const bool trim = bounded && keep > 0 && S > keep;
  // A trimmed layer's kept keys are a copy: a view would pin the whole concatenation.
  k[layer] = trim ? k_all.narrow(2, S - keep, keep).clone() : k_all;
  v[layer] = trim ? v_all.narrow(2, S - keep, keep).clone() : v_all;
  return {k_all, v_all};
}

std::int64_t KvCache::next_position() const {
  if (!streaming || k.empty() || !k.front().defined()) return tokens;
  return k.front().size(2);
}

KvCache KvCache::prefix(std::int64_t p, std::int64_t batch) const {
  SINKLAB_CHECK(!bounded && !streaming, "a bounded KV cache may have dropped positions: it has no prefix to cut");
  SINKLAB_CHECK(p >= 0 && p <= tokens, "a prefix of {} positions from a cache of {}", p, tokens);
  KvCache out;
  out.tokens = p;
  if (p == 0) return out;
  for (std::size_t l = 0; l < k.size(); ++l) {
    at::Tensor kl = k[l].narrow(2, 0, p), vl = v[l].narrow(2, 0, p);
    out.k.push_back(batch > 0 ? kl.expand({batch, -1, -1, -1}) : kl);
    out.v.push_back(batch > 0 ? vl.expand({batch, -1, -1, -1}) : vl);
  }
  return out;
}

ModelInputs prepare_inputs(const at::Tensor& ids, const at::Tensor& attention_mask, c10::Device device,
                           std::int64_t vocab_size) {
  SINKLAB_INPUT_CHECK(ids.dim() == 2, "token ids must be [batch, positions], got {} dims", ids.dim());
  SINKLAB_INPUT_CHECK(ids.numel() == 0 || (ids.min().item<std::int64_t>() >= 0 && ids.max().item<std::int64_t>() < vocab_size),
                      "token ids must lie in [0, {})", vocab_size);
  return {ids.to(device), attention_mask.defined() ? attention_mask.to(device) : at::Tensor()};
}

AttentionMasking make_attention_masking(const at::Tensor& ids, std::int64_t cached, const at::Tensor& attention_mask,
                                        std::optional<std::int64_t> sliding_window) {
  const std::int64_t B = ids.size(0), T = ids.size(1), total = cached + T;
  at::Tensor mask = attention_mask.defined() ? attention_mask.to(at::kLong) : at::ones({B, total}, ids.options());
  SINKLAB_INPUT_CHECK(mask.dim() == 2 && mask.size(0) == B && mask.size(1) == total,
                      "attention_mask must be [batch, cached + new] = [{}, {}]", B, total);
  // Positions count real tokens, so left padding does not shift them (transformers' generate).
  at::Tensor positions = attention_mask.defined() ? (mask.cumsum(1) - 1).clamp_min(0)
                                                  : at::arange(total, ids.options()).expand({B, total});
  auto q_idx = at::arange(cached, total, ids.options()).view({1, 1, T, 1});
  auto k_idx = at::arange(total, ids.options()).view({1, 1, 1, total});
  auto blocked = k_idx.gt(q_idx) | mask.eq(0).view({B, 1, 1, total});
  if (sliding_window) blocked = blocked | (q_idx - k_idx).ge(*sliding_window);
  return {positions.narrow(1, cached, T), blocked};
}

at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& blocked_all,
                  const ScoreScaling& scaling, HookPoints& hooks, int layer) {
  const std::int64_t S = k.size(2);
  const at::Tensor blocked = blocked_all.size(-1) == S ? blocked_all : blocked_all.narrow(-1, blocked_all.size(-1) - S, S);
  auto scores = at::matmul(q, k.transpose(2, 3)) * scaling.scale;  // [B, H, T, S]
  if (scaling.softcap) scores = at::tanh(scores / *scaling.softcap) * *scaling.softcap;
  // The dtype's lowest value, as transformers: an all-blocked row (left padding) gives no NaN.
  // (float32's lowest overflows bfloat16 and float16, whose largest finite values differ.)
  const double lowest = scores.scalar_type() == at::kBFloat16 ? -3.3895313892515355e38
                        : scores.scalar_type() == at::kHalf   ? -65504.0
                        : scores.scalar_type() == at::kDouble ? -std::numeric_limits<double>::max()
                                                              : -double(std::numeric_limits<float>::max());
  scores = scores.masked_fill(blocked, lowest);
  scores = hooks.pass(hook_name(layer, "attn_scores"), scores);
  auto pattern = at::softmax(scores.to(at::kFloat), -1).to(q.scalar_type());
  pattern = hooks.pass(hook_name(layer, "pattern"), pattern);
  auto z = at::matmul(pattern, v);
  return hooks.pass(hook_name(layer, "z"), z.transpose(1, 2)).transpose(1, 2);
}

}  // namespace sinklab
