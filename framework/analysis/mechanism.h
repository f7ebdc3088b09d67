#pragma once
// Measures of "catch, tag, release" on the averaging task (paper Section 4), from a forward
// trace, plus the low-rank measures of a weight matrix's spectrum.
#include <ATen/core/Tensor.h>

#include "framework/model/averaging_theory.h"
#include "framework/model/toy_averaging.h"

namespace sinklab {

struct MechanismMeasures {
  at::Tensor catch_mass;    // [layers, heads] mean attention that tokens i > t put on [SEP]
  // [layers] mean over tokens i > t of the largest attention any head puts on [SEP]: heads can
  // share the catching, each taking a different run of tokens (seen in the trained wide toy).
  at::Tensor catch_any_head;
  at::Tensor tag_abs_after;   // [d_model] mean |h_d| after layer 1, tokens i > t
  at::Tensor tag_abs_before;  // [d_model] the same for tokens i < t
  std::int64_t tag_dim = 0;   // the dimension with the largest after/before ratio (the outlier)
  double tag_ratio = 0.0;     // that ratio
  at::Tensor release_mass;  // [heads, 3] layer-2 attention of the last token on j < t, j = t, j > t
  at::Tensor release_kl;    // [heads] KL(uniform over j > t || A[T, :]); 0 when retrieval is exactly uniform
};

// `release_layer` is the layer whose last-token attention retrieves (1 = the second layer).
MechanismMeasures measure_mechanism(const ToyTrace& trace, const AveragingBatch& batch, int release_layer = 1);

struct SpectrumMeasures {
  at::Tensor singular_values;  // [k], descending
  double effective_rank = 0;   // exp(entropy of s / sum(s)) (Roy & Vetterli 2007)
  double energy_top1 = 0;      // s_1^2 / sum s^2
  double energy_top2 = 0;      // (s_1^2 + s_2^2) / sum s^2
};

SpectrumMeasures measure_spectrum(const at::Tensor& matrix);

}  // namespace sinklab
