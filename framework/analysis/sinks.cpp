#include "framework/analysis/sinks.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "framework/model/language_model.h"
#include "framework/util/error.h"

namespace sinklab {

at::Tensor sink_scores(const at::Tensor& pattern, std::int64_t min_queries) {
  SINKLAB_INPUT_CHECK(pattern.dim() == 3 && pattern.size(1) == pattern.size(2),
                      "sink scores need an attention pattern [head, query, key], got shape [{}]", fmt::join(pattern.sizes(), ", "));
  auto A = pattern.detach().to(at::kCPU).to(at::kDouble);
  const std::int64_t T = A.size(1);
  auto causal = at::ones({T, T}, A.options()).tril();                                 // [query, key]
  auto queries = at::arange(T, 0, -1, A.options());                                   // T - k
  auto alpha = (A * causal).sum(1) / queries;                                          // [H, T]
  auto too_few = queries.lt(double(std::max<std::int64_t>(min_queries, 1))).expand_as(alpha);
  return alpha.masked_fill(too_few, NAN);
}

at::Tensor massive_activations(const at::Tensor& x_in, double abs_threshold, double median_ratio) {
  SINKLAB_INPUT_CHECK(x_in.dim() == 2, "massive activations need hidden states [T, D], got shape [{}]", fmt::join(x_in.sizes(), ", "));
  auto x = x_in.detach().to(at::kCPU).to(at::kDouble);
  auto mag = x.abs();
  auto median = std::get<0>(mag.median(1, true));  // [T, 1]
  auto hit = mag.gt(abs_threshold) & mag.ge(median * median_ratio);
  auto where = hit.nonzero();  // [N, 2]
  if (where.size(0) == 0) return at::zeros({0, 3}, x.options());
  auto values = x.index({where.select(1, 0), where.select(1, 1)});
  auto order = values.abs().argsort(0, /*descending=*/true);
  return at::cat({where.to(at::kDouble), values.unsqueeze(1)}, 1).index_select(0, order);
}

at::Tensor outlier_dimension_scores(const at::Tensor& x_in) {
  SINKLAB_INPUT_CHECK(x_in.dim() == 2, "outlier dimensions need hidden states [T, D], got shape [{}]", fmt::join(x_in.sizes(), ", "));
  auto mag = x_in.detach().to(at::kCPU).to(at::kDouble).abs();
  auto median = std::get<0>(mag.median(1, true)).clamp_min(1e-300);  // [T, 1]
  return std::get<0>((mag / median).median(0));                        // [D]
}

at::Tensor effective_rank(const at::Tensor& s_in) {
  auto s = s_in.to(at::kDouble);
  auto total = s.sum(-1, true);
  auto p = s / total.clamp_min(1e-300);
  auto entropy = -(p * p.clamp_min(1e-300).log()).sum(-1);
  return at::where(total.squeeze(-1).gt(0), entropy.exp(), at::zeros_like(entropy));
}

HeadSpectra attention_head_spectra(const AttentionWeights& w, std::int64_t H, std::int64_t KV, std::int64_t hd) {
  at::NoGradGuard no_grad;
  SINKLAB_CHECK(H % KV == 0 && w.q.size(0) == H * hd && w.k.size(0) == KV * hd,
                "attention weights do not match {} heads / {} kv heads of width {}", H, KV, hd);
  auto f = [](const at::Tensor& t) { return t.detach().to(at::kCPU).to(at::kFloat); };
  const std::int64_t D = w.q.size(1);
  auto q = f(w.q).view({H, hd, D}).transpose(1, 2);   // [H, D, hd] = W_Q,h^T
  auto k = f(w.k).view({KV, hd, D}).transpose(1, 2);  // [KV, D, hd]
  auto r_q = std::get<1>(at::linalg_qr(q));           // [H, hd, hd]
  auto r_k = std::get<1>(at::linalg_qr(k));           // [KV, hd, hd]
  auto r_k_per_head = r_k.repeat_interleave(H / KV, 0);
  HeadSpectra out;
  out.qk_singular_values = at::linalg_svdvals(at::matmul(r_q, r_k_per_head.transpose(1, 2)));
  out.v_singular_values = at::linalg_svdvals(f(w.v).view({KV, hd, D}));
  return out;
}

}  // namespace sinklab
