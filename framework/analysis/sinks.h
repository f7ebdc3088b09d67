#pragma once
// Attention sinks, massive activations and outlier feature dimensions, as the literature the
// paper builds on defines them (Gu et al.; Sun et al.), plus the low-rank measures of each
// head's W_Q W_K^T and W_V.
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace sinklab {

struct AttentionWeights;

// Sink scores (Gu et al. 2024): pattern [H, T, T] (rows = queries, causal) -> alpha [H, T] with
// alpha_k = mean over queries t >= k of A[t, k]. Keys seen by fewer than `min_queries` queries
// get NaN: near the end of a prompt a key's score is an average over a handful of rows (the
// last key's is just A[T-1, T-1]) and says nothing about a sink.
at::Tensor sink_scores(const at::Tensor& pattern, std::int64_t min_queries = 1);

// Massive activations (Sun et al. 2024) of hidden states x [T, D]: entries with
// |x| > abs_threshold and |x| >= median_ratio * median(|x_t|) of their own token's state.
// Returns [N, 3] float64 rows (position, dimension, value), largest |value| first.
at::Tensor massive_activations(const at::Tensor& x, double abs_threshold = 100.0, double median_ratio = 1000.0);

// How consistently each dimension is an outlier across tokens: [D] float64, the median over
// tokens t of |x[t, d]| / median(|x_t|). A dimension whose score is >= some ratio (say 5) is
// large on most tokens, not just on one (that is a massive activation, e.g. at the BOS sink).
at::Tensor outlier_dimension_scores(const at::Tensor& x);

// exp(entropy of s / sum s) along the last dimension (Roy & Vetterli 2007); 0 for all-zero s.
at::Tensor effective_rank(const at::Tensor& singular_values);

struct HeadSpectra {
  at::Tensor qk_singular_values;  // [H, head_dim] of W_Q,h^T W_K,g(h) (D x D, rank <= head_dim)
  at::Tensor v_singular_values;   // [KV, head_dim] of W_V,g ([head_dim, D])
};

// Per-head spectra of one block's attention (float32). Query head h reads key/value head
// h / (H / KV) (grouped-query attention). The D x D bilinear form is never built: with
// W_Q,h^T = Q1 R1 and W_K,g^T = Q2 R2 (thin QR), its singular values are those of R1 R2^T.
HeadSpectra attention_head_spectra(const AttentionWeights& w, std::int64_t heads, std::int64_t kv_heads,
                                   std::int64_t head_dim);

}  // namespace sinklab
