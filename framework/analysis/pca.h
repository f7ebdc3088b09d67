#pragma once
// PCA of token vectors and the paper's RGB colouring (after Oquab et al. 2024, as in the
// paper's Section 2): the top-k principal components of the d x d covariance of the vectors,
// the projection of each token onto them, and each component min-max normalised to [0, 255]
// over the tokens shown, used as the R, G (and B) channels.
#include <ATen/core/Tensor.h>

#include <vector>

namespace sinklab {

struct PcaFit {
  at::Tensor mean;                // [d] float64, subtracted before projecting
  at::Tensor components;          // [k, d] float64, unit rows, descending variance
  at::Tensor explained_variance;  // [k] eigenvalues of the covariance (divided by N - 1)
  at::Tensor explained_ratio;     // [k] share of the total variance
};

// x [N, d] (any float dtype), N >= 2, 1 <= k <= min(N - 1, d). The sign of each component is
// fixed so that its largest-magnitude loading is positive (ties: the lowest index), so reruns,
// thread counts and machines give the same colours.
PcaFit fit_pca(const at::Tensor& x, int k);

// x [M, d] -> [M, k] float64 coordinates in the fitted basis.
at::Tensor pca_project(const PcaFit& fit, const at::Tensor& x);

// Per-component range [2, k] (row 0 min, row 1 max) over the rows of several projections, so
// panels drawn side by side share one colour scale.
at::Tensor pca_range(const std::vector<at::Tensor>& projections);

// projection [M, k] -> uint8 [M, 3]: component c mapped linearly from range[:, c] to [0, 255]
// (clamped, for tokens outside the fitted set). With k = 2 the blue channel is 0.
at::Tensor pca_rgb(const at::Tensor& projection, const at::Tensor& range);

}  // namespace sinklab
