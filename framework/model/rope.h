#pragma once
// Rotary position embedding's inverse frequencies, as transformers' modeling_rope_utils computes
// them, for the rope_type values sinklab computes: default, linear (position interpolation),
// dynamic (NTK-aware, the base grows past max_position_embeddings) and llama3 (Llama 3.1 / 3.2:
// low frequencies divided by the factor, high ones kept, a smooth blend between) and longrope
// (Phi-3 / 3.5 long-context: a factor per frequency, short or long by the sequence's length; its
// attention_factor scales cos and sin, which TransformerLM applies). config.json
// keeps these in rope_scaling (older) or rope_parameters (newer); model_spec.cpp reads them into
// ModelSpec::rope_scaling.
#include <ATen/core/Tensor.h>

#include <cstdint>

#include "framework/model/model_spec.h"

namespace sinklab {

// inv_freq [rotary_dim / 2] float32 (on `options`' device) for a sequence of `seq_len`
// positions (only dynamic and longrope depend on it): theta^(-2i / rotary_dim), then scaled.
at::Tensor rope_inverse_frequencies(double theta, std::int64_t rotary_dim, const RopeScaling& scaling,
                                    std::int64_t seq_len, const at::TensorOptions& options);

}  // namespace sinklab
