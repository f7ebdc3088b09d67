#pragma once
// Tiny random checkpoints of every family, written by the tests themselves with the names,
// layouts and config keys transformers writes (spelled out here, independently of families/).
#include <ATen/core/Tensor.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/temp_dir.h"

namespace sinklab::test {

struct TinyCheckpoint {
  std::string dir;
  std::vector<std::pair<std::string, at::Tensor>> tensors;  // exactly what model.safetensors holds
  // The same weights unfused, [out, in] as nn.Linear: "q.0", "q_bias.0", "up.1", "token_embed", ...
  std::map<std::string, at::Tensor> logical;
  std::int64_t layers = 2, heads = 4, kv_heads = 2, head_dim = 8, d_model = 32, d_mlp = 48, vocab = 61;
  double rope_theta = 10000.0, partial_rotary = 1.0;
  std::int64_t sliding_window = 0;  // 0: none
  double query_pre_attn_scalar = 0;                   // 0: head_dim (Gemma sets it)
  double attn_softcap = 0, final_softcap = 0;         // 0: none (Gemma 2)
  double rope_local_theta = 0, rope_linear_factor = 1;  // Gemma 3: sliding layers' base, global layers' scaling
};

// The families test checkpoints exist for, as their model_type: llama, mistral, qwen2, qwen3, phi3,
// gpt2, gpt_neox, olmo2, gemma2, gemma3_text.
const std::vector<std::string>& tiny_families();

// Writes `<dir>/<name>` for `model_type`, weights stored in `dtype`. llama, qwen2 and phi3 use
// grouped-query heads; mistral has a sliding window of 5; phi3 rotates half of each head (theta
// 500, via rope_parameters); qwen2 has q/k/v biases; qwen3 per-head q/k norms and head_dim 12
// (not hidden / heads); gpt2 is Conv1D with the causal-mask buffers
// and a tied head (`gpt2_prefix` false: the older names without "transformer."); gpt_neox has the
// per-head interleaved query_key_value, biases, rotary_pct 0.5 and a parallel residual; olmo2
// post-norms and whole-projection q/k norms; gemma2 and gemma3_text head_dim 12, query scalar 10,
// a window of 4 on layer 0 only, tied head; gemma2 soft caps 2 (scores) and 3 (logits); gemma3_text
// per-head q/k norms, a local RoPE base of 100 on layer 0 and linear scaling x2 on layer 1.
TinyCheckpoint write_tiny_checkpoint(const TempDir& dir, const std::string& model_type, std::uint64_t seed,
                                     at::ScalarType dtype, bool gpt2_prefix = true, const std::string& name = "");

}  // namespace sinklab::test
