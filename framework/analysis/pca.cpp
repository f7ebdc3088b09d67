#include "framework/analysis/pca.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "framework/util/error.h"

namespace sinklab {

PcaFit fit_pca(const at::Tensor& x_in, int k) {
  at::NoGradGuard no_grad;
  SINKLAB_INPUT_CHECK(x_in.dim() == 2, "PCA needs token vectors [N, d], got {} dimensions", x_in.dim());
  const std::int64_t N = x_in.size(0), d = x_in.size(1);
  SINKLAB_INPUT_CHECK(N >= 2, "PCA needs at least 2 token vectors, got {}", N);
  SINKLAB_INPUT_CHECK(k >= 1 && k <= std::min(N - 1, d), "PCA of {} vectors of width {} can have 1..{} components, asked for {}",
                      N, d, std::min(N - 1, d), k);
  auto x = x_in.detach().to(at::kCPU).to(at::kDouble);
  PcaFit fit;
  fit.mean = x.mean(0);
  auto centered = x - fit.mean;  // [N, d]
  // The covariance's eigenvectors are the right singular vectors of the centred data.
  auto svd = at::linalg_svd(centered, /*full_matrices=*/false);
  auto s = std::get<1>(svd), vh = std::get<2>(svd);  // [r], [r, d]
  auto variance = s.pow(2) / double(N - 1);
  fit.components = vh.narrow(0, 0, k).clone();
  auto pivot = fit.components.abs().argmax(1, true);            // [k, 1]
  auto sign = fit.components.gather(1, pivot).sign();           // [k, 1]
  fit.components = fit.components * at::where(sign.eq(0), at::ones_like(sign), sign);
  fit.explained_variance = variance.narrow(0, 0, k).clone();
  double total = variance.sum().item<double>();
  fit.explained_ratio = total > 0 ? fit.explained_variance / total : at::zeros_like(fit.explained_variance);
  return fit;
}

at::Tensor pca_project(const PcaFit& fit, const at::Tensor& x) {
  SINKLAB_INPUT_CHECK(x.dim() == 2 && x.size(1) == fit.mean.size(0),
                      "projecting vectors of shape {} onto a PCA fitted on width {}", fmt::join(x.sizes(), ", "), fit.mean.size(0));
  return at::matmul(x.detach().to(at::kCPU).to(at::kDouble) - fit.mean, fit.components.t());
}

at::Tensor pca_range(const std::vector<at::Tensor>& projections) {
  SINKLAB_CHECK(!projections.empty(), "pca_range of nothing");
  auto all = at::cat(projections, 0);  // [sum M, k]
  return at::stack({std::get<0>(all.min(0)), std::get<0>(all.max(0))});
}

at::Tensor pca_rgb(const at::Tensor& projection, const at::Tensor& range) {
  const std::int64_t M = projection.size(0), k = projection.size(1);
  SINKLAB_CHECK(k >= 1 && k <= 3 && range.size(1) == k, "RGB needs 1-3 components and a matching range");
  auto lo = range[0], span = (range[1] - range[0]).clamp_min(1e-300);
  auto scaled = ((projection - lo) / span * 255.0).clamp(0, 255).round().to(at::kByte);  // [M, k]
  auto rgb = at::zeros({M, 3}, at::TensorOptions().dtype(at::kByte));
  rgb.narrow(1, 0, k).copy_(scaled);
  return rgb;
}

}  // namespace sinklab
