// SparseGPT (Frantar & Alistarh 2023): with H = 2 X^T X / n dampened by damp * mean(diag H),
// walk the columns in blocks of `block_size`; at the start of a block choose its mask from
// w^2 / [H^-1]_jj^2 over the whole block (adaptive mask selection; N:M: every M columns), and
// for each column zero the pruned weights and spread their error over the later columns with
// the OBS update, through the upper Cholesky factor of H^-1.
//
// One deliberate difference from the reference code: a block loses exactly
// floor(sparsity * rows * block) weights (the reference's `<= threshold` drops one more).
//
// Precision: the factorization of H (hessian_factor.h: one Cholesky and one triangular inverse,
// where the reference takes a Cholesky, the inverse and a Cholesky again) runs in float64, where
// a float32 one can fail on the ill-conditioned Hessians of outlier features; the column walk -
// the O(rows x cols x block) OBS updates and the O(rows x cols^2) lazy block updates, nearly all
// of the time - runs in float32 as the reference does, which changes the output error by less
// than 1e-4 relative (scripts/bench_prune.sh) at half the time.
#include <ATen/ATen.h>

#include "framework/prune/hessian_factor.h"
#include "framework/prune/masks.h"
#include "framework/prune/methods.h"
#include "framework/util/error.h"

namespace sinklab {

PrunedMatrix prune_sparsegpt(const at::Tensor& w_in, LinearStats stats, const PruneConfig& cfg) {
  const auto pattern = cfg.parsed_pattern();
  // [out, in], float32 throughout (see Precision above): never a float64 copy beside H's.
  auto W = w_in.to(at::kFloat, /*non_blocking=*/false, /*copy=*/true);
  const std::int64_t rows = W.size(0), cols = W.size(1);
  // [in, in] float64: X^T X's own memory when the caller handed the statistics over (the prune
  // stage does for each input's last map), else a copy.
  auto H = stats.take_hessian().to(W.device());
  // Inputs that never fire: their weights cannot matter; keep H invertible.
  auto dead = H.diagonal().eq(0);
  H.diagonal().masked_fill_(dead, 1.0);
  W.masked_fill_(dead.unsqueeze(0).expand_as(W), 0.0);
  H.diagonal().add_(cfg.damp * H.diagonal().mean().item<double>());
  // U with H^-1 = U^T U, float32. At most two [in, in] float64 matrices live at once (down_proj
  // of Phi-3-medium: in = 17920, 2.6 GB each), H's - X^T X's when handed over - included.
  auto Hinv = inverse_hessian_factor(std::move(H), at::kFloat);

  auto keep = at::ones({rows, cols}, W.options().dtype(at::kBool));
  for (std::int64_t i1 = 0; i1 < cols; i1 += cfg.block_size) {
    const std::int64_t count = std::min<std::int64_t>(cfg.block_size, cols - i1);
    auto W1 = W.narrow(1, i1, count).clone();
    auto Hinv1 = Hinv.narrow(0, i1, count).narrow(1, i1, count);
    auto d = Hinv1.diagonal();
    auto Err1 = at::zeros_like(W1);
    at::Tensor keep1;
    if (!pattern.structured()) {
      auto scores = W1.pow(2) / d.pow(2).unsqueeze(0);  // [rows, count]
      keep1 = keep_per_matrix(scores, cfg.sparsity);
    } else {
      keep1 = at::ones({rows, count}, W.options().dtype(at::kBool));
    }
    for (std::int64_t i = 0; i < count; ++i) {
      if (pattern.structured() && i % pattern.m == 0) {
        SINKLAB_INPUT_CHECK(i + pattern.m <= count, "sparsegpt: block_size ({}) must be a multiple of M ({})",
                            cfg.block_size, pattern.m);
        auto scores = W1.narrow(1, i, pattern.m).pow(2) / d.narrow(0, i, pattern.m).pow(2).unsqueeze(0);
        keep1.narrow(1, i, pattern.m).copy_(keep_n_of_m(scores, pattern));
      }
      auto w = W1.select(1, i);
      auto q = w * keep1.select(1, i);
      auto err = (w - q) / d[i];  // [rows]
      // OBS: the remaining columns of the block absorb the error of this one.
      W1.narrow(1, i, count - i).addr_(err, Hinv1[i].narrow(0, i, count - i), /*beta=*/1, /*alpha=*/-1);
      W1.select(1, i).copy_(q);
      Err1.select(1, i).copy_(err);
    }
    W.narrow(1, i1, count).copy_(W1);
    keep.narrow(1, i1, count).copy_(keep1);
    if (i1 + count < cols)
      W.narrow(1, i1 + count, cols - i1 - count).sub_(at::matmul(Err1, Hinv.narrow(0, i1, count).narrow(1, i1 + count, cols - i1 - count)));
  }
  PrunedMatrix r;
  r.keep = keep & dead.logical_not().unsqueeze(0);
  r.weight = (W * r.keep).to(w_in.scalar_type());
  r.parameters = r.keep.sum().item<std::int64_t>();
  return r;
}

}  // namespace sinklab
