#pragma once
// Tensor <-> std::vector conversions for code that hands numbers to figures and JSON.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace sinklab {

std::vector<double> to_doubles(const at::Tensor& t);         // any dtype/device, flattened
std::vector<std::int64_t> to_int64s(const at::Tensor& t);    // any integer or float dtype, flattened

}  // namespace sinklab
