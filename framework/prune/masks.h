#pragma once
// Choosing which weights to keep from a score (larger = more important). Exact counts: a row of
// d_in inputs at sparsity s loses exactly floor(s * d_in) weights; a matrix exactly
// floor(s * numel); an N:M group keeps exactly N. Ties go to the lower index.
#include <ATen/core/Tensor.h>

#include "framework/prune/prune_config.h"

namespace sinklab {

// bool [out, in]: true = keep. Per output row (Wanda, OATS), unstructured or N:M.
at::Tensor keep_per_row(const at::Tensor& scores, double sparsity, SparsityPattern pattern);
// bool [out, in]: one threshold over the whole matrix (magnitude).
at::Tensor keep_per_matrix(const at::Tensor& scores, double sparsity);
// bool [out, in]: N kept in every group of M consecutive inputs of each row.
at::Tensor keep_n_of_m(const at::Tensor& scores, SparsityPattern pattern);

}  // namespace sinklab
