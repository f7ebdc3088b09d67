#include "framework/util/tensors.h"

#include <ATen/ATen.h>

namespace sinklab {

std::vector<double> to_doubles(const at::Tensor& t) {
  auto c = t.detach().to(at::kCPU).to(at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

std::vector<std::int64_t> to_int64s(const at::Tensor& t) {
  auto c = t.detach().to(at::kCPU).to(at::kLong).contiguous();
  return std::vector<std::int64_t>(c.data_ptr<std::int64_t>(), c.data_ptr<std::int64_t>() + c.numel());
}

}  // namespace sinklab
