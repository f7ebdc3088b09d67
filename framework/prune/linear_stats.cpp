#include "framework/prune/linear_stats.h"

#include <ATen/ATen.h>

#include "framework/util/error.h"

namespace sinklab {

LinearStats::LinearStats(std::int64_t features, bool gram) : features_(features) {
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  square_sum_ = at::zeros({features}, f64);
  if (gram) gram_ = at::zeros({features, features}, f64);
}

void LinearStats::add(const at::Tensor& x_in) {
  SINKLAB_CHECK(x_in.size(-1) == features_, "calibration input of width {} for a map with {} inputs", x_in.size(-1),
                features_);
  auto x = x_in.detach().reshape({-1, features_}).to(at::kCPU).to(at::kDouble);
  square_sum_ += x.pow(2).sum(0);
  if (gram_.defined()) gram_.addmm_(x.t(), x);
  tokens_ += x.size(0);
}

at::Tensor LinearStats::mean_square() const {
  SINKLAB_CHECK(tokens_ > 0, "no calibration tokens were seen");
  return square_sum_ / double(tokens_);
}

at::Tensor LinearStats::column_norm() const { return square_sum_.sqrt(); }

at::Tensor LinearStats::hessian() const {
  SINKLAB_CHECK(gram_.defined() && tokens_ > 0, "the Hessian needs X^T X from calibration");
  return gram_ * (2.0 / double(tokens_));
}

at::Tensor LinearStats::take_hessian() {
  SINKLAB_CHECK(gram_.defined() && tokens_ > 0, "the Hessian needs X^T X from calibration");
  at::Tensor gram = std::move(gram_);
  const double scale = 2.0 / double(tokens_);
  const bool alone = gram.use_count() == 1 && gram.storage().use_count() == 1;
  return alone ? gram.mul_(scale) : gram * scale;  // [in, in]
}

}  // namespace sinklab
