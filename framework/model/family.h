#pragma once
// A model family (architecture) declared as data, in the spirit of llama.cpp's llama-arch.cpp:
// how its config.json reads, what its tensors are called and how they are laid out, and which
// variant of the shared transformer block it uses. Each file in families/ fills one Family;
// TransformerLM computes any of them, so a family that needs no new computation is data only.
#include <cstdint>
#include <string>
#include <vector>

namespace sinklab {

struct ModelSpec;

// What a tensor does in the computation, whatever the family calls it. Shapes are the logical
// [out, in] of nn.Linear (a Conv1D family stores linear maps transposed, see Layout).
enum class Role {
  token_embed,  // [V, D]
  pos_embed,    // [P, D]      learned positions only
  final_norm,   // [D]
  lm_head,      // [V, D]      absent when tied to token_embed
  attn_norm,    // [D]         per layer, before attention
  q,            // [H*hd, D]
  k,            // [KV*hd, D]
  v,            // [KV*hd, D]
  o,            // [D, H*hd]
  q_norm,       // [hd]        RMSNorm of each query head (QkNorm::per_head)
  k_norm,       // [hd]        RMSNorm of each key head
  mlp_norm,     // [D]         per layer, before the MLP
  mlp_in,       // [I, D]      the gate of a gated MLP, or the first projection
  mlp_up,       // [I, D]      gated MLPs only: multiplies act(mlp_in x)
  mlp_out,      // [D, I]
};
const char* role_name(Role role);

enum class NormKind { rms, layer };        // RMSNorm (weight) | LayerNorm (weight and bias)
enum class MlpKind { gated, plain };       // out(act(in x) * up x) | out(act(in x)), act from config
enum class Positions { rotary, learned };  // RoPE on q and k | a position table added to the embedding
enum class Layout { linear, conv1d };      // linear maps stored as nn.Linear [out, in] | Conv1D [in, out]
// RMSNorm of queries and keys before RoPE: none, or over each head's hd dims (Qwen3, Gemma 3;
// OLMo 2's norm over the whole projection would be a third kind).
enum class QkNorm { none, per_head };
// When a linear map has a bias: never, always, or when config.json's flag (ConfigKeys) is true.
enum class Bias { none, always, if_attention_bias, if_mlp_bias };
const char* to_string(NormKind kind);
const char* to_string(MlpKind kind);
const char* to_string(Positions kind);
const char* to_string(Layout kind);
const char* to_string(QkNorm kind);

// An embedding or norm tensor: `name` without ".weight" / ".bias"; "{}" stands for the layer.
struct TensorName {
  Role role;
  std::string name;
};

// A linear map of a block, the unit pruning works on.
struct LinearMap {
  Role role;
  std::string kind;  // the name pruning reports and ablation configs use: q, k, v, o, gate, up, down, fc, proj
  std::string name;  // LinearLayer.name; unless fused, the checkpoint's "<name>.weight" ("{}" = layer)
  Bias bias = Bias::none;
};

// Several linear maps stored as one tensor, concatenated along the output axis in `parts` order
// (dim 0 for Layout::linear, dim 1 for Layout::conv1d); the bias, if any, is fused the same way.
struct FusedMap {
  std::string name;  // "<name>.weight" / "<name>.bias" in the checkpoint ("{}" = layer)
  std::vector<Role> parts;
};

// Where config.json keeps each ModelSpec field and what transformers' config class assumes when a
// key is absent. The defaults are the names LlamaConfig uses; an empty key: the family has none.
struct ConfigKeys {
  std::string hidden_size = "hidden_size";
  std::string num_layers = "num_hidden_layers";
  std::string num_heads = "num_attention_heads";
  std::string num_kv_heads = "num_key_value_heads";  // absent or null: = num_heads
  std::string head_dim = "head_dim";                 // absent or null: hidden_size / num_heads
  std::string intermediate_size = "intermediate_size";
  std::int64_t intermediate_factor = 0;  // > 0: intermediate_size may be absent or null (= factor * hidden)
  std::string max_positions;             // learned positions: the table's rows (required)
  std::string norm_eps = "rms_norm_eps";
  double norm_eps_default = 1e-6;
  std::string activation = "hidden_act";
  std::string activation_default = "silu";
  std::vector<std::string> activations{"silu"};  // the values accepted (and computed) for this family
  bool tie_default = false;                      // tie_word_embeddings when absent
  std::string attention_bias, mlp_bias;          // flags read for Bias::if_attention_bias / if_mlp_bias
  // Rotary families: rope_theta and partial_rotary_factor at the top level (older configs) or in
  // rope_parameters (newer transformers); only rope_type "default" is computed.
  double rope_theta_default = 10000.0;
  std::string sliding_window;  // key of the attention window length (absent or null: none)
  // Flags whose `true` selects computation the shared block does not have (an InputError then).
  std::vector<std::string> refused_flags;
};

struct Family {
  std::string model_type;  // config.json's model_type
  std::string hf_class;    // transformers' class, config.json's architectures[0]
  ConfigKeys config;
  NormKind norm = NormKind::rms;
  MlpKind mlp = MlpKind::gated;
  Positions positions = Positions::rotary;
  Layout layout = Layout::linear;
  QkNorm qk_norm = QkNorm::none;     // with a q_norm and k_norm tensor per block
  std::vector<TensorName> tensors;   // embeddings and norms
  std::vector<LinearMap> linears;    // per block, in the order pruning visits them
  std::vector<FusedMap> fused;       // linear maps the checkpoint stores together
  std::vector<std::string> ignored;  // checkpoint tensors that are not weights ("{}" = layer)
  std::string optional_prefix;       // a prefix of every name that older checkpoints omit (gpt2: "transformer.")

  // The table entries for `role`; nullptr when the family has none (pos_embed in a rotary family).
  const TensorName* tensor(Role role) const;
  const LinearMap* linear(Role role) const;
  const FusedMap* fused_with(Role role) const;  // the fused tensor holding `role`, or nullptr
  bool has_bias(Role role, const ModelSpec& spec) const;
};

// `format` with "{}" replaced by the layer index.
std::string layer_name(const std::string& format, std::int64_t layer);
// A role's logical shape ([out, in] for linear maps) under `spec`.
std::vector<std::int64_t> role_shape(Role role, const ModelSpec& spec);

// One tensor the checkpoint must hold, with the shape it is stored in.
struct CheckpointTensor {
  std::string name;  // full name, before any optional prefix is dropped
  std::vector<std::int64_t> shape;
  std::int64_t layer = -1;  // its decoder block; -1 outside the blocks (embeddings, final norm, head)
};
// Every weight a checkpoint of this family and spec holds, in loading (and saving) order.
std::vector<CheckpointTensor> checkpoint_layout(const Family& family, const ModelSpec& spec);

}  // namespace sinklab
