#pragma once
// Calibration statistics of one linear map's inputs, accumulated batch by batch in float64
// without keeping activations: sum of x_j^2 per input feature (Wanda, OATS) and, when asked
// for, X^T X (SparseGPT's Hessian).
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace sinklab {

class LinearStats {
 public:
  LinearStats() = default;
  LinearStats(std::int64_t features, bool gram);
  void add(const at::Tensor& x);  // [..., features]; every leading index is one token
  std::int64_t tokens() const { return tokens_; }
  std::int64_t features() const { return features_; }
  at::Tensor mean_square() const;   // [in] mean over tokens of x_j^2
  at::Tensor column_norm() const;   // [in] ||X_j||_2 over all tokens (Wanda's norm)
  at::Tensor hessian() const;       // [in, in] H = 2 X^T X / n (SparseGPT); requires gram; a new tensor
  // The same H, taken out of these statistics (they keep no X^T X after): computed in X^T X's own
  // memory when no other LinearStats or tensor shares it, else in a new tensor.
  at::Tensor take_hessian();

 private:
  std::int64_t features_ = 0, tokens_ = 0;
  at::Tensor square_sum_;  // [in] float64
  at::Tensor gram_;        // [in, in] float64, or undefined
};

}  // namespace sinklab
