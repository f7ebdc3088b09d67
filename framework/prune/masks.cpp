#include "framework/prune/masks.h"

#include <ATen/ATen.h>

#include "framework/util/error.h"

namespace sinklab {

// Indices of the k smallest entries of each row, ties broken towards the lower index (a stable
// sort), so masks do not depend on the sort implementation.
static at::Tensor smallest(const at::Tensor& scores, std::int64_t k) {
  return std::get<1>(scores.sort(/*stable=*/true, /*dim=*/-1, /*descending=*/false)).narrow(-1, 0, k);
}

at::Tensor keep_n_of_m(const at::Tensor& scores, SparsityPattern p) {
  SINKLAB_CHECK(p.structured(), "keep_n_of_m needs an N:M pattern");
  const std::int64_t rows = scores.size(0), cols = scores.size(1);
  SINKLAB_INPUT_CHECK(cols % p.m == 0, "an {}:{} pattern needs the input width ({}) to be a multiple of {}", p.n, p.m,
                      cols, p.m);
  auto groups = scores.reshape({rows, cols / p.m, p.m});
  auto keep = at::ones(groups.sizes(), scores.options().dtype(at::kBool));
  keep.scatter_(2, smallest(groups, p.m - p.n), false);
  return keep.view({rows, cols});
}

at::Tensor keep_per_row(const at::Tensor& scores, double sparsity, SparsityPattern p) {
  if (p.structured()) return keep_n_of_m(scores, p);
  const auto k = std::int64_t(sparsity * double(scores.size(1)));
  auto keep = at::ones(scores.sizes(), scores.options().dtype(at::kBool));
  if (k > 0) keep.scatter_(1, smallest(scores, k), false);
  return keep;
}

at::Tensor keep_per_matrix(const at::Tensor& scores, double sparsity) {
  const auto k = std::int64_t(sparsity * double(scores.numel()));
  auto keep = at::ones({scores.numel()}, scores.options().dtype(at::kBool));
  if (k > 0) keep.scatter_(0, smallest(scores.reshape({-1}), k), false);
  return keep.view(scores.sizes());
}

}  // namespace sinklab
