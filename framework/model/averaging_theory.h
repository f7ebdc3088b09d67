#pragma once
// The two-layer averaging model of the paper's Section 4 (Theorem 4.1), batched.
//
// Tokens x_1..x_T with one [SEP] at position t. Embeddings e_i = [x_i, -1], e_t = [s_num, -s_tag].
//   layer 1:  A1 = causal_softmax(E E^T),        H = A1 (E W_V1) + E
//   layer 2:  A2 = causal_softmax(H W_Q2 W_K2^T H^T),   f(x) = A2[T, :] (H W_V2)
// No 1/sqrt(d) scaling, as in the paper. Sequences of different lengths share one padded batch:
// position j of sequence n is real when j < length[n]; causal masking keeps padding invisible to
// every real query.
#include <ATen/core/Tensor.h>

namespace sinklab {

struct AveragingParams2d {
  at::Tensor W_V1;  // [2, 2]
  at::Tensor W_Q2;  // [2, k]
  at::Tensor W_K2;  // [2, k]   scores use the bilinear form W_Q2 W_K2^T  [2, 2]
  at::Tensor W_V2;  // [2, 1]
  at::Tensor s_num;  // []  number coordinate of the [SEP] embedding
  at::Tensor s_tag;  // []  minus the tag coordinate of the [SEP] embedding

  // Theorem 4.1's construction: s_num = 0, W_V1 = [[0,0],[0,-1]], W_Q2 W_K2^T = [[0,b],[0,d]],
  // W_V2 = [1,0]^T. Tensors are float64 on `device`.
  static AveragingParams2d theorem41(double b, double d, double s_tag, c10::Device device, double s_num = 0.0);
};

struct AveragingBatch {
  at::Tensor x;       // [N, Tmax] float64, numbers (the value at the SEP position is ignored)
  at::Tensor length;  // [N] int64, T per sequence
  at::Tensor sep;     // [N] int64, 0-based SEP position t-1
};

struct AveragingForward {
  at::Tensor E;        // [N, Tmax, 2] embeddings
  at::Tensor A1;       // [N, Tmax, Tmax] layer-1 attention (rows = queries)
  at::Tensor H;        // [N, Tmax, 2] residual stream after layer 1
  at::Tensor A2;       // [N, Tmax, Tmax] layer-2 attention (rows = queries)
  at::Tensor A2_last;  // [N, Tmax] layer-2 attention of the last real token over keys
  at::Tensor f;        // [N] model output
};

AveragingForward averaging_forward(const AveragingParams2d& p, const AveragingBatch& batch);

// mean of x over positions sep+1 .. length-1: the task's target.  [N]
at::Tensor averaging_target(const AveragingBatch& batch);

}  // namespace sinklab
