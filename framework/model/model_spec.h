#pragma once
// A HuggingFace `config.json`, reduced to what the forward pass needs. Which keys hold which
// field, and their defaults, is the family's (family.h, families/); this struct is the result.
#include <cstdint>
#include <optional>
#include <string>

namespace sinklab {

struct Family;
struct HookSite;

// RoPE's scaling (rope.h computes it): config.json's rope_type and the parameters it reads.
struct RopeScaling {
  std::string type = "default";  // default | linear | dynamic | llama3
  double factor = 1.0;           // linear, dynamic, llama3
  double low_freq_factor = 1.0, high_freq_factor = 4.0;  // llama3
  std::int64_t original_max_positions = 0;  // llama3: the context length it was pre-trained with
  std::int64_t max_positions = 0;           // dynamic: max_position_embeddings
};
inline const char* kRopeTypes = "default, linear, dynamic, llama3";  // the rope_type values computed

struct ModelSpec {
  const Family* family = nullptr;  // the registry's entry for model_type; set by from_config_json
  std::string model_type;          // llama | mistral | qwen2 | phi3 | gpt2 (families/registry.cpp)
  std::int64_t vocab_size = 0, hidden_size = 0, intermediate_size = 0;
  std::int64_t num_layers = 0, num_heads = 0, num_kv_heads = 0, head_dim = 0;
  double norm_eps = 1e-6;  // RMSNorm's or LayerNorm's epsilon
  bool rotary = true;      // rotary positions; false: a learned position table of max_positions rows
  double rope_theta = 10000.0;
  double partial_rotary_factor = 1.0;  // fraction of head_dim that is rotated
  RopeScaling rope_scaling;
  std::int64_t max_positions = 0;
  bool tie_word_embeddings = false;
  bool attention_bias = false, mlp_bias = false;  // config flags, for families whose biases follow them
  std::string hidden_act = "silu";                // the MLP's activation (hidden_act / activation_function)
  std::optional<std::int64_t> sliding_window;

  // Reads and checks `<dir>/config.json` with its family's keys; an unknown model_type lists the
  // supported ones.
  static ModelSpec from_config_json(const std::string& path);
  std::int64_t rotary_dim() const { return std::int64_t(double(head_dim) * partial_rotary_factor); }
};

// Whether a model of `spec` computes `site` (rot_q/rot_k need rotary positions, pos_embed a
// position table, pre_linear a gated MLP: the site table's SiteNeeds).
bool computes_site(const ModelSpec& spec, const HookSite& site);

}  // namespace sinklab
