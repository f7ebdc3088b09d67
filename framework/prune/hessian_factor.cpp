#include "framework/prune/hessian_factor.h"

#include <ATen/ATen.h>

#include "framework/util/error.h"

namespace sinklab {
namespace {

// L <- L^-1 for a lower triangular L, in place, by halves: with L = [[A, 0], [B, C]],
// L^-1 = [[A^-1, 0], [-C^-1 B A^-1, C^-1]]. The off-diagonal block takes two triangular solves
// (half a general product's work each) against the still-uninverted A and C, then A and C are
// inverted the same way. Extra memory: one block of a quarter of L.
void invert_lower_in_place(at::Tensor L) {
  const std::int64_t n = L.size(0);
  if (n <= 256) {
    L.copy_(at::linalg_solve_triangular(L, at::eye(n, L.options()), /*upper=*/false));
    return;
  }
  const std::int64_t h = n / 2;
  auto A = L.narrow(0, 0, h).narrow(1, 0, h);
  auto B = L.narrow(0, h, n - h).narrow(1, 0, h);
  auto C = L.narrow(0, h, n - h).narrow(1, h, n - h);
  auto CinvB = at::linalg_solve_triangular(C, B, /*upper=*/false);                       // C^-1 B
  B.copy_(at::linalg_solve_triangular(A, CinvB, /*upper=*/false, /*left=*/false).neg_());  // -C^-1 B A^-1
  CinvB = at::Tensor();
  invert_lower_in_place(A);
  invert_lower_in_place(C);
}

}  // namespace

at::Tensor inverse_hessian_factor(at::Tensor H, at::ScalarType dtype) {
  SINKLAB_CHECK(H.dim() == 2 && H.size(0) == H.size(1), "the Hessian must be a square matrix, not of rank {}", H.dim());
  H = H.flip({0, 1});  // J H J (a copy; the caller's H goes with the reassignment)
  auto [L, info] = at::linalg_cholesky_ex(H);
  H = at::Tensor();
  SINKLAB_INPUT_CHECK(info.item<int>() == 0,
                      "the dampened Hessian is not positive definite (minor {} fails): raise sparsegpt's damp",
                      info.item<int>());
  invert_lower_in_place(L);
  auto U = L.to(dtype);
  L = at::Tensor();
  return U.flip({0, 1});
}

}  // namespace sinklab
