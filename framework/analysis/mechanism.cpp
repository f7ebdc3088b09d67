#include "framework/analysis/mechanism.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "framework/util/error.h"

namespace sinklab {

MechanismMeasures measure_mechanism(const ToyTrace& trace, const AveragingBatch& batch, int release_layer) {
  at::NoGradGuard no_grad;
  SINKLAB_CHECK(release_layer < int(trace.attention.size()), "release layer {} of a {}-layer model", release_layer,
                trace.attention.size());
  const auto& A0 = trace.attention[0];  // [N, H, T, T]
  const int64_t N = A0.size(0), T = A0.size(3);
  auto pos = at::arange(T, batch.sep.options()).unsqueeze(0);       // [1, T]
  auto sep = batch.sep.unsqueeze(1), len = batch.length.unsqueeze(1);
  auto after = (pos.gt(sep) & pos.lt(len)).to(at::kDouble);        // [N, T]  tokens i > t
  auto before = pos.lt(sep).to(at::kDouble);                       // [N, T]  tokens i < t
  auto at_sep = pos.eq(sep).to(at::kDouble);

  MechanismMeasures m;
  // catch: A[l, h][i, t] averaged over tokens i > t
  std::vector<at::Tensor> per_layer, any_head;
  for (const auto& A : trace.attention) {
    auto Ad = A.to(at::kDouble);
    auto idx = batch.sep.view({N, 1, 1, 1}).expand({N, Ad.size(1), T, 1});
    auto to_sep = Ad.gather(3, idx).squeeze(3);                           // [N, H, T]
    per_layer.push_back((to_sep * after.unsqueeze(1)).sum(at::IntArrayRef{0, 2}) / after.sum());  // [H]
    any_head.push_back((std::get<0>(to_sep.max(1)) * after).sum() / after.sum());                // []
  }
  m.catch_mass = at::stack(per_layer);  // [L, H]
  m.catch_any_head = at::stack(any_head);  // [L]

  // tag: |h| after layer 1, after vs before [SEP], per dimension
  auto h = trace.resid.at(0).to(at::kDouble).abs();  // [N, T, D]
  m.tag_abs_after = (h * after.unsqueeze(-1)).sum(at::IntArrayRef{0, 1}) / after.sum();
  m.tag_abs_before = (h * before.unsqueeze(-1)).sum(at::IntArrayRef{0, 1}) / before.sum().clamp_min(1.0);
  auto ratio = m.tag_abs_after / m.tag_abs_before.clamp_min(1e-12);
  m.tag_dim = ratio.argmax().item<std::int64_t>();
  m.tag_ratio = ratio.max().item<double>();

  // release: the last token's attention in the retrieving layer
  auto A2 = trace.attention[release_layer].to(at::kDouble);  // [N, H, T, T]
  const int64_t H = A2.size(1);
  auto last = (batch.length - 1).view({N, 1, 1, 1}).expand({N, H, 1, T});
  auto row = A2.gather(2, last).squeeze(2);  // [N, H, T]
  auto mass = [&](const at::Tensor& mask) { return (row * mask.unsqueeze(1)).sum(2).mean(0); };  // [H]
  m.release_mass = at::stack({mass(before), mass(at_sep), mass(after)}, 1);  // [H, 3]
  auto n_after = after.sum(1, true);                                          // [N, 1]
  // KL(U || A) = sum_{j > t} (1/n) log((1/n) / A_j), averaged over sequences
  auto log_ratio = (-n_after.log()).unsqueeze(1) - row.clamp_min(1e-300).log();  // [N, H, T]
  m.release_kl = ((log_ratio * after.unsqueeze(1)).sum(2) / n_after).mean(0);  // [H]
  return m;
}

SpectrumMeasures measure_spectrum(const at::Tensor& matrix) {
  at::NoGradGuard no_grad;
  SpectrumMeasures s;
  s.singular_values = at::linalg_svdvals(matrix.detach().to(at::kDouble));
  auto sv = s.singular_values;
  double total = sv.sum().item<double>();
  if (total <= 0) return s;
  auto p = sv / total;
  s.effective_rank = std::exp(-(p * p.clamp_min(1e-300).log()).sum().item<double>());
  auto e = sv.pow(2);
  double energy = e.sum().item<double>();
  s.energy_top1 = e[0].item<double>() / energy;
  s.energy_top2 = (sv.numel() > 1 ? (e[0] + e[1]).item<double>() : e[0].item<double>()) / energy;
  return s;
}

}  // namespace sinklab
