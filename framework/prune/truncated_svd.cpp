#include "framework/prune/truncated_svd.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

#include "framework/util/error.h"

namespace sinklab {

at::Tensor LowRank::product() const { return at::matmul(u, v); }

static at::Tensor orthonormal_columns(const at::Tensor& y) { return std::get<0>(at::linalg_qr(y)); }

LowRank truncated_svd(const at::Tensor& a, std::int64_t r, const SvdOptions& o, const at::Tensor& warm) {
  const std::int64_t out = a.size(0), in = a.size(1);
  SINKLAB_CHECK(r >= 0 && r <= std::min(out, in), "rank {} for a {}x{} matrix", r, out, in);
  LowRank lr;
  if (r == 0) {
    lr.u = at::zeros({out, 0}, a.options());
    lr.v = at::zeros({0, in}, a.options());
    return lr;
  }
  const std::int64_t k = std::min<std::int64_t>(r + o.oversampling, std::min(out, in));
  if (!o.randomized || k >= std::min(out, in)) {
    auto [U, S, Vh] = at::linalg_svd(a, /*full_matrices=*/false);
    lr.u = U.narrow(1, 0, r) * S.narrow(0, 0, r);
    lr.v = Vh.narrow(0, 0, r);
    lr.basis = Vh.narrow(0, 0, k).t().contiguous();
    return lr;
  }
  // Range of A^T (the row space) from a sketch, then the SVD of the small projected matrix.
  at::Tensor omega;
  if (warm.defined() && warm.size(0) == in && warm.size(1) == k) {
    omega = warm;
  } else {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
    omega = at::randn({in, k}, gen, a.options().device(at::kCPU)).to(a.device());
  }
  auto q = orthonormal_columns(at::matmul(a, omega));  // [out, k], range of A
  for (int i = 0; i < o.power_iterations; ++i) {
    auto z = orthonormal_columns(at::matmul(a.t(), q));  // [in, k]
    q = orthonormal_columns(at::matmul(a, z));
  }
  auto b = at::matmul(q.t(), a);  // [k, in]
  auto [Ub, S, Vh] = at::linalg_svd(b, /*full_matrices=*/false);
  lr.u = at::matmul(q, Ub.narrow(1, 0, r)) * S.narrow(0, 0, r);
  lr.v = Vh.narrow(0, 0, r);
  lr.basis = Vh.t().contiguous();  // [in, k]
  return lr;
}

}  // namespace sinklab
