// Magnitude pruning: the smallest |W| go, one threshold for the whole matrix (N:M: per group).
#include <ATen/ATen.h>

#include "framework/prune/masks.h"
#include "framework/prune/methods.h"

namespace sinklab {

PrunedMatrix prune_magnitude(const at::Tensor& w, LinearStats, const PruneConfig& cfg) {
  const auto pattern = cfg.parsed_pattern();
  auto scores = w.abs();
  PrunedMatrix r;
  r.keep = pattern.structured() ? keep_n_of_m(scores, pattern) : keep_per_matrix(scores, cfg.sparsity);
  r.weight = w * r.keep;
  r.parameters = r.keep.sum().item<std::int64_t>();
  return r;
}

}  // namespace sinklab
