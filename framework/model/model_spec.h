#pragma once
// A HuggingFace `config.json`, reduced to what the forward pass needs. Which keys hold which
// field, and their defaults, is the family's (family.h, families/); this struct is the result.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sinklab {

struct Family;
struct HookSite;

// RoPE's scaling (rope.h computes it): config.json's rope_type and the parameters it reads.
struct RopeScaling {
  std::string type = "default";  // default | linear | dynamic | llama3 | longrope
  double factor = 1.0;           // linear, dynamic, llama3
  double low_freq_factor = 1.0, high_freq_factor = 4.0;  // llama3
  std::int64_t original_max_positions = 0;  // llama3, longrope: the context length it was pre-trained with
  std::int64_t max_positions = 0;           // dynamic: max_position_embeddings
  // longrope (Phi-3 / Phi-3.5 128k): per-frequency divisors [rotary_dim / 2], short up to
  // original_max_positions tokens, long beyond; cos and sin scaled by attention_factor.
  std::vector<double> short_factor, long_factor;
  double attention_factor = 1.0;
};
inline const char* kRopeTypes = "default, linear, dynamic, llama3, longrope";  // the rope_type values computed

struct ModelSpec {
  const Family* family = nullptr;  // the registry's entry for model_type; set by from_config_json
  std::string model_type;          // one of families/registry.cpp's
  std::int64_t vocab_size = 0, hidden_size = 0, intermediate_size = 0;
  std::int64_t num_layers = 0, num_heads = 0, num_kv_heads = 0, head_dim = 0;
  double norm_eps = 1e-6;  // RMSNorm's or LayerNorm's epsilon
  bool rotary = true;      // rotary positions; false: a learned position table of max_positions rows
  double rope_theta = 10000.0;
  double partial_rotary_factor = 1.0;  // fraction of head_dim that is rotated
  RopeScaling rope_scaling;
  std::int64_t max_positions = 0;   // learned positions: the table's rows
  std::int64_t context_length = 0;  // positions the model was made for (max_position_embeddings); 0: not stated
  bool tie_word_embeddings = false;
  bool attention_bias = false, mlp_bias = false;  // config flags, for families whose biases follow them
  std::string hidden_act = "silu";                // the MLP's activation (hidden_act / activation_function)
  std::optional<std::int64_t> sliding_window;  // a query sees the keys less than this many positions back
  std::vector<bool> sliding_layers;  // [num_layers] which layers use the window; empty: all (when there is one)
  double rope_local_theta = 0;       // > 0: the sliding layers' RoPE base, unscaled (Gemma 3)
  double query_pre_attn_scalar = 0;  // scores scaled by its ^-0.5; 0: head_dim's (every family but Gemma)
  std::optional<double> attn_softcap, final_softcap;  // scores / logits -> c tanh(x / c) (Gemma 2)
  bool parallel_residual = false;    // GPT-NeoX: attention and MLP both read the block's input

  // Reads and checks `<dir>/config.json` with its family's keys; an unknown model_type lists the
  // supported ones.
  static ModelSpec from_config_json(const std::string& path);
  std::int64_t rotary_dim() const { return std::int64_t(double(head_dim) * partial_rotary_factor); }
  bool slides(std::int64_t layer) const {
    return sliding_window && (sliding_layers.empty() || sliding_layers[std::size_t(layer)]);
  }
  double attention_scale() const;  // what q k^T is multiplied by
};

// Whether a model of `spec` computes `site` (rot_q/rot_k need rotary positions, pos_embed a
// position table, pre_linear a gated MLP: the site table's SiteNeeds).
bool computes_site(const ModelSpec& spec, const HookSite& site);

}  // namespace sinklab
