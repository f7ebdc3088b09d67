#include "framework/model/averaging_theory.h"

#include <ATen/ATen.h>

#include "framework/util/error.h"

namespace sinklab {

AveragingParams2d AveragingParams2d::theorem41(double b, double d, double s_tag, c10::Device device, double s_num) {
  auto opts = at::TensorOptions().dtype(at::kDouble).device(device);
  AveragingParams2d p;
  p.W_V1 = at::tensor({0.0, 0.0, 0.0, -1.0}, opts).view({2, 2});
  p.W_Q2 = at::eye(2, opts);
  p.W_K2 = at::tensor({0.0, 0.0, b, d}, opts).view({2, 2});  // = ([[0,b],[0,d]])^T
  p.W_V2 = at::tensor({1.0, 0.0}, opts).view({2, 1});
  p.s_num = at::full({}, s_num, opts);
  p.s_tag = at::full({}, s_tag, opts);
  return p;
}

static at::Tensor causal_softmax(const at::Tensor& scores) {  // [N, T, T]
  int64_t T = scores.size(-1);
  auto keep = at::ones({T, T}, scores.options().dtype(at::kBool)).tril();
  return at::softmax(scores.masked_fill(keep.logical_not(), -INFINITY), -1);
}

AveragingForward averaging_forward(const AveragingParams2d& p, const AveragingBatch& batch) {
  const auto& x = batch.x;  // [N, T]
  SINKLAB_CHECK(x.dim() == 2 && batch.length.dim() == 1 && batch.sep.dim() == 1, "bad averaging batch shapes");
  const int64_t N = x.size(0), T = x.size(1);
  auto opts = x.options();
  auto positions = at::arange(T, opts.dtype(at::kLong)).unsqueeze(0);  // [1, T]
  auto is_sep = positions.eq(batch.sep.unsqueeze(1));                  // [N, T]

  AveragingForward out;
  auto num = at::where(is_sep, p.s_num.to(x.scalar_type()), x);
  auto tag = at::where(is_sep, -p.s_tag.to(x.scalar_type()), at::full({}, -1.0, opts));
  out.E = at::stack({num, tag}, -1);  // [N, T, 2]

  out.A1 = causal_softmax(at::matmul(out.E, out.E.transpose(1, 2)));  // [N, T, T]
  out.H = at::matmul(out.A1, at::matmul(out.E, p.W_V1)) + out.E;       // [N, T, 2]

  auto q = at::matmul(out.H, p.W_Q2);                                      // [N, T, k]
  auto k = at::matmul(out.H, p.W_K2);                                      // [N, T, k]
  out.A2 = causal_softmax(at::matmul(q, k.transpose(1, 2)));               // [N, T, T]
  // The last real token's row; causal masking already hides the padding after it.
  auto last = (batch.length - 1).view({N, 1, 1}).expand({N, 1, T});
  out.A2_last = out.A2.gather(1, last).squeeze(1);                         // [N, T]
  auto v = at::matmul(out.H, p.W_V2).squeeze(-1);                          // [N, T]
  out.f = (out.A2_last * v).sum(-1);                                       // [N]
  return out;
}

at::Tensor averaging_target(const AveragingBatch& batch) {
  int64_t T = batch.x.size(1);
  auto positions = at::arange(T, batch.x.options().dtype(at::kLong)).unsqueeze(0);
  auto after = positions.gt(batch.sep.unsqueeze(1)) & positions.lt(batch.length.unsqueeze(1));
  auto w = after.to(batch.x.scalar_type());
  return (batch.x * w).sum(-1) / w.sum(-1);
}

}  // namespace sinklab
