#pragma once
// A model family (architecture) declared as data, in the spirit of llama.cpp's llama-arch.cpp:
// how its config.json reads, what its tensors are called and how they are laid out, and which
// variant of the shared transformer block it uses. Each file in families/ fills one Family;
// TransformerLM computes any of them, so a family that needs no new computation is data only.
#include <cstdint>
#include <optional>
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
  attn_norm,    // [D]         per layer, before attention (absent in post-norm blocks)
  qkv,          // [3*H*hd, D] GPT-NeoX's fused map, rows per head [H, 3 (q, k, v), hd]; one linear map
  q,            // [H*hd, D]
  k,            // [KV*hd, D]
  v,            // [KV*hd, D]
  o,            // [D, H*hd]
  q_norm,       // [hd] per head (QkNorm::per_head), [H*hd] whole (QkNorm::whole): the queries' norm
  k_norm,       // [hd] per head, [KV*hd] whole: the keys' norm
  post_attn_norm,  // [D]      on the attention output before the residual add (Gemma, OLMo 2)
  mlp_norm,     // [D]         per layer, before the MLP (absent in post-norm blocks)
  post_mlp_norm,   // [D]      on the MLP output before the residual add (Gemma, OLMo 2)
  mlp_in,       // [I, D]      the gate of a gated MLP, or the first projection
  mlp_up,       // [I, D]      gated MLPs only: multiplies act(mlp_in x)
  mlp_out,      // [D, I]
};
const char* role_name(Role role);

// RMSNorm as Llama (normalised in float32, weight applied in the input dtype) | RMSNorm with the
// weight applied in float32 (OLMo 2) | Gemma's RMSNorm, (1 + weight) in float32 | LayerNorm (weight
// and bias). All equal in float32 up to Gemma's offset; they differ in how bfloat16 rounds.
enum class NormKind { rms, rms_float32_weight, rms_one_plus, layer };
enum class MlpKind { gated, plain };       // out(act(in x) * up x) | out(act(in x)), act from config
enum class Positions { rotary, learned };  // RoPE on q and k | a position table added to the embedding
enum class Layout { linear, conv1d };      // linear maps stored as nn.Linear [out, in] | Conv1D [in, out]
// A norm (the family's NormKind) of queries and keys before RoPE: none, over each head's hd dims
// (Qwen3, Gemma 3), or over the whole projection's H*hd / KV*hd (OLMo 2).
enum class QkNorm { none, per_head, whole };
// Where a block's norms sit. pre_norm: h + attn(norm h), then h + mlp(norm h) (Llama, GPT-2,
// GPT-NeoX); post_norm: h + norm(attn h), h + norm(mlp h) (OLMo 2); sandwich: both, h +
// norm(attn(norm h)) (Gemma 2/3). GPT-NeoX's parallel residual (config flag, ModelSpec) is a
// pre-norm block whose MLP reads the block's input: h + attn(norm1 h) + mlp(norm2 h).
enum class NormPlacement { pre_norm, post_norm, sandwich };
// Which layers use the sliding window when config.json has one and no layer_types list: every
// layer (Mistral, Phi-3); those from max_window_layers on when use_sliding_window (Qwen2/3); the
// even ones (Gemma 2); all but every sliding_window_pattern-th (Gemma 3).
enum class SlidingLayers { all, from_max_window_layers, even, all_but_every_nth };
// When a linear map has a bias: never, always, or when config.json's flag (ConfigKeys) is true.
enum class Bias { none, always, if_attention_bias, if_mlp_bias };
const char* to_string(NormKind kind);
const char* to_string(MlpKind kind);
const char* to_string(Positions kind);
const char* to_string(Layout kind);
const char* to_string(QkNorm kind);
const char* to_string(NormPlacement kind);

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
  bool attention_bias_default = false;           // when the flag is absent (GPT-NeoX: true)
  // Rotary families: rope_theta and partial_rotary_factor at the top level (older configs) or in
  // rope_parameters (newer transformers); only rope_type "default" is computed.
  double rope_theta_default = 10000.0;
  std::string rope_theta_alias, partial_rotary_alias;  // older top-level names (GPT-NeoX: rotary_emb_base, rotary_pct)
  double partial_rotary_default = 1.0;
  std::string sliding_window;  // key of the attention window length (absent or null: none)
  SlidingLayers sliding_layers = SlidingLayers::all;  // when config.json has no layer_types
  std::string rope_local_theta;       // Gemma 3: rope_local_base_freq, the sliding layers' RoPE base
  std::string query_scale;            // Gemma: query_pre_attn_scalar s, scores scaled by s^-0.5 (absent: hd)
  std::string attn_softcap;           // Gemma 2: attn_logit_softcapping c, scores -> c tanh(scores / c)
  std::string final_softcap;          // Gemma 2: final_logit_softcapping, the same on the logits
  std::optional<double> attn_softcap_default, final_softcap_default;  // when absent (an explicit null: none)
  std::string parallel_residual;      // GPT-NeoX: use_parallel_residual (absent: true)
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
  NormPlacement placement = NormPlacement::pre_norm;
  bool scaled_embedding = false;     // Gemma: the embedding times sqrt(hidden_size), in the compute dtype
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
