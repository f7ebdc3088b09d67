#pragma once
// The rank-r truncation of a matrix, exactly (LAPACK SVD) or by a randomized range finder
// (Halko, Martinsson & Tropp 2011: sketch with r + p columns, q power iterations with
// re-orthonormalisation). OATS calls it 80 times on slowly changing matrices, so the sketch can
// start from the previous call's right subspace instead of a Gaussian draw.
#include <ATen/core/Tensor.h>

namespace sinklab {

struct LowRank {
  at::Tensor u;      // [out, r], the left singular vectors times the singular values
  at::Tensor v;      // [r, in], the right singular vectors (rows)
  at::Tensor basis;  // [in, r + p], right subspace to warm-start the next randomized call
  at::Tensor product() const;  // u v, [out, in]
};

struct SvdOptions {
  bool randomized = false;
  int oversampling = 10;
  int power_iterations = 2;
  std::uint64_t seed = 0;
};

// a [out, in] float32/64; 0 <= r <= min(out, in). `warm` [in, k] or undefined.
LowRank truncated_svd(const at::Tensor& a, std::int64_t r, const SvdOptions& options, const at::Tensor& warm = {});

}  // namespace sinklab
