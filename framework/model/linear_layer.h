#pragma once
#include <ATen/core/Tensor.h>

#include <string>

namespace sinklab {

// One linear map inside a decoder block, the unit pruning works on.
struct LinearLayer {
  std::string name;   // its checkpoint name without ".weight" (phi3: the split q_proj/k_proj/v_proj/gate_proj/up_proj)
  std::string kind;   // q, k, v, o, gate, up, down (llama family); q, k, v, o, fc, proj (gpt2)
  at::Tensor weight;  // [out, in], sharing storage with the model: writing into it changes the model
  std::string input;  // the hook site whose value [B, T, in] (z: [B, T, H, hd]) is this map's input
};

}  // namespace sinklab
