#include "framework/model/rope.h"

#include <ATen/ATen.h>

#include <cmath>

#include "framework/util/error.h"

namespace sinklab {

// transformers computes in float32 tensors with Python-float scalars; the operations below are
// the same ones in the same order (a scalar divided by a tensor is reciprocal() * scalar there).
static at::Tensor base_frequencies(double theta, std::int64_t rotary_dim, const at::TensorOptions& options) {
  auto exponents = at::arange(0, rotary_dim, 2, options.dtype(at::kLong)).to(at::kFloat) / double(rotary_dim);
  return at::pow(theta, exponents).reciprocal();
}

at::Tensor rope_inverse_frequencies(double theta, std::int64_t rotary_dim, const RopeScaling& s, std::int64_t seq_len,
                                    const at::TensorOptions& options) {
  if (s.type == "default") return base_frequencies(theta, rotary_dim, options);
  if (s.type == "linear") return base_frequencies(theta, rotary_dim, options) / s.factor;
  if (s.type == "dynamic") {
    // The base grows once the sequence is longer than the context the model was trained on.
    const double len = double(std::max(seq_len, s.max_positions));
    const double d = double(rotary_dim);
    const double base = theta * std::pow(s.factor * len / double(s.max_positions) - (s.factor - 1.0), d / (d - 2.0));
    return base_frequencies(base, rotary_dim, options);
  }
  if (s.type == "llama3") {
    const at::Tensor inv_freq = base_frequencies(theta, rotary_dim, options);
    const double old_context = double(s.original_max_positions);
    const double low_freq_wavelen = old_context / s.low_freq_factor, high_freq_wavelen = old_context / s.high_freq_factor;
    const at::Tensor wavelen = inv_freq.reciprocal() * (2.0 * M_PI);
    // Long wavelengths (low frequencies) are divided by the factor, short ones kept, and the
    // ones between blended by how many of them fit into the old context.
    at::Tensor scaled = at::where(wavelen > low_freq_wavelen, inv_freq / s.factor, inv_freq);
    const at::Tensor smooth = (wavelen.reciprocal() * old_context - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    const at::Tensor blended = (1 - smooth) * scaled / s.factor + smooth * scaled;
    const at::Tensor medium = wavelen.ge(high_freq_wavelen) & wavelen.le(low_freq_wavelen);
    return at::where(medium, blended, scaled);
  }
  if (s.type == "longrope") {
    // Each frequency divided by its factor: the short ones while the sequence fits the
    // pre-training context, the long ones beyond it (cos and sin are scaled by the caller).
    const std::vector<double>& ext = seq_len > s.original_max_positions ? s.long_factor : s.short_factor;
    SINKLAB_CHECK(std::int64_t(ext.size()) * 2 == rotary_dim, "longrope factors for {} rotary dims, not {}",
                  ext.size() * 2, rotary_dim);
    auto exponents = at::arange(0, rotary_dim, 2, options.dtype(at::kLong)).to(at::kFloat) / double(rotary_dim);
    auto factors = at::tensor(ext, at::TensorOptions().dtype(at::kDouble)).to(options.device(), at::kFloat);
    return (factors * at::pow(theta, exponents)).reciprocal();
  }
  SINKLAB_CHECK(false, "rope_type '{}' reached the computation unchecked", s.type);
  return at::Tensor();
}

}  // namespace sinklab
