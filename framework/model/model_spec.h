#pragma once
// A HuggingFace `config.json`, reduced to what the forward pass needs. Families share one
// decoder (pre-norm, rotary attention, gated MLP) and differ in the fields below.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sinklab {

struct ModelSpec {
  std::string model_type;  // llama | mistral | qwen2 | phi3 | gpt2
  std::int64_t vocab_size = 0, hidden_size = 0, intermediate_size = 0;
  std::int64_t num_layers = 0, num_heads = 0, num_kv_heads = 0, head_dim = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  double partial_rotary_factor = 1.0;  // fraction of head_dim that is rotated
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // qwen2: q/k/v projections have biases
  std::string hidden_act = "silu";
  std::optional<std::int64_t> sliding_window;
  std::int64_t max_positions = 0;  // gpt2: rows of the learned position table

  // Reads and checks `<dir>/config.json`; an unknown model_type lists the supported ones.
  static ModelSpec from_config_json(const std::string& path);
  static const std::vector<std::string>& supported_types();
  std::int64_t rotary_dim() const { return std::int64_t(double(head_dim) * partial_rotary_factor); }
};

}  // namespace sinklab
