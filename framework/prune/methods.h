#pragma once
// The four pruning methods behind one signature, and the registry the prune stage uses. Each
// works on one linear map W [out, in] (float32) with its calibration statistics; see
// magnitude.cpp, wanda.cpp, sparsegpt.cpp and oats.cpp for the algorithms.
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "framework/prune/linear_stats.h"
#include "framework/prune/prune_config.h"

namespace sinklab {

struct PrunedMatrix {
  at::Tensor weight;                // [out, in] float32, what the model keeps (S + L for oats)
  at::Tensor keep;                  // bool [out, in], the sparse part's pattern
  at::Tensor lowrank_u, lowrank_v;  // oats: [out, r], [r, in] in the original scale: weight = S + u v
  std::vector<double> objective;    // oats: ||W D - S - L||_F / ||W D||_F after each round
  std::int64_t parameters = 0;      // nonzeros of the sparse part + r (out + in)
};

PrunedMatrix prune_magnitude(const at::Tensor& w, LinearStats stats, const PruneConfig& cfg);
PrunedMatrix prune_wanda(const at::Tensor& w, LinearStats stats, const PruneConfig& cfg);
PrunedMatrix prune_sparsegpt(const at::Tensor& w, LinearStats stats, const PruneConfig& cfg);
PrunedMatrix prune_oats(const at::Tensor& w, LinearStats stats, const PruneConfig& cfg);

// The statistics come by value (a LinearStats copy shares its tensors): a method may consume them
// (SparseGPT turns X^T X into H in place when it holds them alone; see LinearStats::take_hessian).
using PruneMethod = PrunedMatrix (*)(const at::Tensor&, LinearStats, const PruneConfig&);
struct MethodInfo {
  PruneMethod run;
  bool needs_calibration;  // magnitude does not
  bool needs_hessian;      // sparsegpt
};
const MethodInfo& prune_method(const std::string& name);  // InputError naming the methods

// OATS's budget (Zhang & Papyan 2024, as their code computes it). Unstructured: the rank is
// floor(kappa (1 - rho) out in / (out + in)) and each row of S keeps in - floor(in * (1 - (1 -
// kappa)(1 - rho))) weights, so S + L holds (1 - rho) of the parameters. N:M: S is N:M itself
// (it keeps N/M) and the low-rank term comes on top, sized as if the budget were
// (N/M) / (1 - kappa): at 2:4 and kappa = 0.25 the layer keeps 2/3 of its parameters, not 1/2.
std::int64_t oats_rank(std::int64_t out, std::int64_t in, const PruneConfig& cfg);
double oats_row_sparsity(const PruneConfig& cfg);  // the sparsity S alone has (unstructured)

}  // namespace sinklab
