#include "framework/model/attention.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "framework/util/error.h"

namespace sinklab {

std::pair<at::Tensor, at::Tensor> KvCache::append(std::size_t layer, std::size_t layers, const at::Tensor& k_new,
                                                  const at::Tensor& v_new) {
  if (k.empty()) k.resize(layers), v.resize(layers);
  k[layer] = k[layer].defined() ? at::cat({k[layer], k_new}, 2) : k_new;
  v[layer] = v[layer].defined() ? at::cat({v[layer], v_new}, 2) : v_new;
  return {k[layer], v[layer]};
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

at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& blocked,
                  HookPoints& hooks, int layer) {
  auto scores = at::matmul(q, k.transpose(2, 3)) / std::sqrt(double(q.size(-1)));  // [B, H, T, S]
  // The dtype's lowest value, as transformers: an all-blocked row (left padding) gives no NaN.
  // (float32's lowest overflows bfloat16 and float16, whose largest finite values differ.)
  const double lowest = scores.scalar_type() == at::kBFloat16 ? -3.3895313892515355e38
                        : scores.scalar_type() == at::kHalf   ? -65504.0
                        : scores.scalar_type() == at::kDouble ? -std::numeric_limits<double>::max()
                                                              : -double(std::numeric_limits<float>::max());
  scores = scores.masked_fill(blocked, lowest);
  hooks.record(hook_name(layer, "attn_scores"), scores);
  auto pattern = at::softmax(scores.to(at::kFloat), -1).to(q.scalar_type());
  hooks.record(hook_name(layer, "pattern"), pattern);
  auto z = at::matmul(pattern, v);
  hooks.record(hook_name(layer, "z"), z.transpose(1, 2));
  return z;
}

}  // namespace sinklab
