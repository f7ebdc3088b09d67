#pragma once
// Pieces of causal self-attention shared by every language-model family: positions and the
// blocked-key mask for a (possibly padded, possibly cached) batch, and the attention core that
// records its hook sites.
#include <ATen/core/Tensor.h>

#include <optional>

#include "framework/hooks/hook_points.h"

namespace sinklab {

// StreamingLLM's cache (Xiao et al. 2024): the first `sink_tokens` positions of the text plus
// the most recent ones, so that each query attends over at most sink_tokens + window positions,
// itself included (sink_tokens 0: window attention). Positions are those within the cache, not
// the text's: keys are kept before RoPE and rotated at their cache index on every step (their
// "position shift"), so a stream longer than the model's context stays within it.
struct StreamingPolicy {
  std::int64_t sink_tokens = 0;
  std::int64_t window = 0;
};

struct KvCache {
  // Per layer [B, kv_heads, kept, head_dim]; k already rotated (streaming: not yet rotated). A
  // sliding layer keeps only the last window - 1 positions (no later query can see further
  // back), so its `kept` is shorter.
  std::vector<at::Tensor> k, v;
  std::int64_t tokens = 0;  // positions seen so far (the forward pass counts them)
  bool bounded = false;     // sliding layers drop what no later query sees (then no prefix() can be cut)
  std::optional<StreamingPolicy> streaming;  // evicts to sinks + window (then bounded too)
  std::int64_t length() const { return tokens; }
  // The position the next token takes: tokens seen, or with streaming its index in the cache.
  std::int64_t next_position() const;
  // The cache of the first `p` positions (an unbounded cache's views), each layer expanded to
  // `batch` rows when batch > 0.
  KvCache prefix(std::int64_t p, std::int64_t batch = 0) const;
  // Appends this step's keys/values for `layer` and returns all it attends over (the kept ones
  // and the new ones); a bounded cache then keeps at most the last `keep` positions (0: all), a
  // streaming one its sink tokens and the last window - 1.
  std::pair<at::Tensor, at::Tensor> append(std::size_t layer, std::size_t layers, const at::Tensor& k_new,
                                           const at::Tensor& v_new, std::int64_t keep = 0);
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

// How scores are formed: q k^T * scale, then c tanh(scores / c) with a soft cap c (Gemma 2).
struct ScoreScaling {
  double scale = 1.0;                // head_dim^-0.5, or query_pre_attn_scalar^-0.5 (Gemma)
  std::optional<double> softcap;
};

// softmax(scores) v with blocked keys removed; q [B, H, T, hd], k/v [B, H, S, hd], blocked
// [B, 1, T, S'] with S' >= S: a cache that dropped its oldest keys sees the last S columns.
// Records blocks.{layer}.attn.hook_attn_scores, hook_pattern and hook_z. Returns z [B, H, T, hd].
at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& blocked,
                  const ScoreScaling& scaling, HookPoints& hooks, int layer);

}  // namespace sinklab
