// OATS (Zhang & Papyan 2024): scale W by D = sqrt(mean x_j^2) per input, then alternate a
// rank-r truncated SVD of W D - S and a per-row hard threshold of W D - L for `iterations`
// rounds; keep (S + L) D^-1 and the factors. Each round minimises ||W D - S - L||_F over one
// term with the other fixed, so the objective never increases.
#include <ATen/ATen.h>

#include <cmath>

#include "framework/prune/masks.h"
#include "framework/prune/methods.h"
#include "framework/prune/truncated_svd.h"
#include "framework/util/error.h"

namespace sinklab {

double oats_row_sparsity(const PruneConfig& cfg) { return 1.0 - (1.0 - cfg.rank_ratio) * (1.0 - cfg.sparsity); }

std::int64_t oats_rank(std::int64_t out, std::int64_t in, const PruneConfig& cfg) {
  const auto p = cfg.parsed_pattern();
  const double dense = p.structured() ? (double(p.n) / p.m) / (1.0 - cfg.rank_ratio) : 1.0 - cfg.sparsity;
  return std::int64_t(cfg.rank_ratio * dense * double(out) * double(in) / double(out + in));
}

PrunedMatrix prune_oats(const at::Tensor& w, LinearStats stats, const PruneConfig& cfg) {
  const auto pattern = cfg.parsed_pattern();
  const std::int64_t out = w.size(0), in = w.size(1), rank = oats_rank(out, in, cfg);
  auto scale = stats.mean_square().sqrt().to(w.device()).to(at::kFloat);  // D, [in]
  SINKLAB_INPUT_CHECK(!scale.isnan().any().item<bool>(), "oats: calibration statistics contain NaN");
  // Inputs that never fire get D = 1: their columns are then pruned like any small weight.
  scale = at::where(scale.gt(0), scale, at::ones_like(scale));
  auto A = w.to(at::kFloat) * scale.unsqueeze(0);  // W D
  const double norm = A.norm().item<double>();
  SvdOptions svd{cfg.svd == "randomized", cfg.oversampling, cfg.power_iterations, 0};
  auto S = at::zeros_like(A);
  LowRank L;
  at::Tensor keep;
  PrunedMatrix r;
  for (int it = 0; it < cfg.iterations; ++it) {
    L = truncated_svd(A - S, rank, svd, L.basis);
    auto residual = A - L.product();  // the rank-r product once per round
    keep = keep_per_row(residual.abs(), oats_row_sparsity(cfg), pattern);
    S = residual * keep;
    // ||A - S - L|| is the part of the residual the threshold dropped.
    r.objective.push_back(residual.masked_fill(keep, 0).norm().item<double>() / std::max(norm, 1e-300));
  }
  auto inv = (1.0 / scale).unsqueeze(0);
  r.keep = keep;
  r.lowrank_u = L.u;
  r.lowrank_v = L.v * inv;
  r.weight = (S + L.product()) * inv;
  r.parameters = keep.sum().item<std::int64_t>() + rank * (out + in);
  return r;
}

}  // namespace sinklab
