#pragma once
// Pieces of causal self-attention shared by every language-model family: positions and the
// blocked-key mask for a (possibly padded, possibly cached) batch, and the attention core that
// records its hook sites.
#include <ATen/core/Tensor.h>

#include <optional>

#include "framework/hooks/hook_points.h"

namespace sinklab {

struct KvCache {
  std::vector<at::Tensor> k, v;  // per layer [B, kv_heads, cached, head_dim]; k already rotated
  std::int64_t length() const { return k.empty() ? 0 : k.front().size(2); }
  // Appends this step's keys/values for `layer` and returns all of them.
  std::pair<at::Tensor, at::Tensor> append(std::size_t layer, std::size_t layers, const at::Tensor& k_new,
                                           const at::Tensor& v_new);
};

// Token ids and attention mask moved to the weights' device and checked ([B, T], ids < vocab).
struct ModelInputs {
  at::Tensor ids, attention_mask;  // the mask stays undefined when none was given
};
ModelInputs prepare_inputs(const at::Tensor& ids, const at::Tensor& attention_mask, c10::Device device,
                           std::int64_t vocab_size);

struct AttentionMasking {
  at::Tensor positions;  // [B, T] position of each new token (counting real tokens only)
  at::Tensor blocked;    // [B, 1, T, cached + T] true where a query may not see a key
};

// `attention_mask` [B, cached + T] (1 = token, 0 = padding) may be undefined (no padding).
AttentionMasking make_attention_masking(const at::Tensor& ids, std::int64_t cached, const at::Tensor& attention_mask,
                                        std::optional<std::int64_t> sliding_window);

// softmax(q k^T / sqrt(head_dim)) v with blocked keys removed; q [B, H, T, hd], k/v [B, H, S, hd].
// Records blocks.{layer}.attn.hook_attn_scores, hook_pattern and hook_z. Returns z [B, H, T, hd].
at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& blocked,
                  HookPoints& hooks, int layer);

}  // namespace sinklab
