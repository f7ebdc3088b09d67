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

// The same choice as the k first indices of a stable sort of each row, in linear time: the
// k-th smallest value (kthvalue, a selection), everything below it, and of the entries equal to
// it the lowest-indexed ones that complete k. Sorting each row cost 12 ms per 128-column block of
// a 1024-row SparseGPT step, most of its mask time.
static at::Tensor keep_all_but_smallest(const at::Tensor& scores, std::int64_t k) {  // along the last dim
  if (k <= 0) return at::ones(scores.sizes(), scores.options().dtype(at::kBool));
  const at::Tensor kth = std::get<0>(scores.kthvalue(k, -1, /*keepdim=*/true));  // [..., 1]
  // Usually nothing but the k-th value itself sits at the threshold: then <= kth is the choice.
  const at::Tensor at_most = scores <= kth;
  if (at_most.sum(-1).eq(k).all().item<bool>()) return at_most.logical_not();
  const at::Tensor below = scores < kth, tie = scores == kth;
  const at::Tensor wanted = k - below.sum(-1, /*keepdim=*/true);                   // ties to prune, [..., 1]
  const at::Tensor pruned = below | (tie & (tie.cumsum(-1) <= wanted));
  return pruned.logical_not();
}

at::Tensor keep_per_row(const at::Tensor& scores, double sparsity, SparsityPattern p) {
  if (p.structured()) return keep_n_of_m(scores, p);
  return keep_all_but_smallest(scores, std::int64_t(sparsity * double(scores.size(1))));
}

at::Tensor keep_per_matrix(const at::Tensor& scores, double sparsity) {
  const auto k = std::int64_t(sparsity * double(scores.numel()));
  return keep_all_but_smallest(scores.reshape({-1}), k).view(scores.sizes());
}

}  // namespace sinklab
