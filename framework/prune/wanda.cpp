// Wanda (Sun et al. 2024): score |W_ij| * ||X_j||_2, the smallest scores of each output row go
// (N:M: of each group of M inputs in a row). No weight update.
#include <ATen/ATen.h>

#include "framework/prune/masks.h"
#include "framework/prune/methods.h"

namespace sinklab {

PrunedMatrix prune_wanda(const at::Tensor& w, LinearStats stats, const PruneConfig& cfg) {
  auto scores = w.abs().to(at::kDouble) * stats.column_norm().to(w.device()).unsqueeze(0);  // [out, in]
  PrunedMatrix r;
  r.keep = keep_per_row(scores, cfg.sparsity, cfg.parsed_pattern());
  r.weight = w * r.keep;
  r.parameters = r.keep.sum().item<std::int64_t>();
  return r;
}

}  // namespace sinklab
