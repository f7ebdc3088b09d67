// GPT-2 (transformers' GPT2LMHeadModel): learned positions, pre-LayerNorm blocks, q, k, v fused
// into c_attn, GELU (tanh) MLP, biases everywhere, linear maps in Conv1D layout ([in, out],
// y = x W + b), lm_head tied to the token embedding.
#include "framework/model/family.h"

namespace sinklab {

const Family& gpt2_family() {
  static const Family family = [] {
    Family f;
    f.model_type = "gpt2";
    f.hf_class = "GPT2LMHeadModel";
    // GPT2Config's own names and defaults; heads are never grouped and head_dim is n_embd / n_head.
    ConfigKeys& c = f.config;
    c.hidden_size = "n_embd";
    c.num_layers = "n_layer";
    c.num_heads = "n_head";
    c.num_kv_heads = "";
    c.head_dim = "";
    c.intermediate_size = "n_inner";
    c.intermediate_factor = 4;  // n_inner null: 4 * n_embd
    c.max_positions = "n_positions";
    c.norm_eps = "layer_norm_epsilon";
    c.norm_eps_default = 1e-5;
    c.activation = "activation_function";
    c.activation_default = "gelu_new";
    c.activations = {"gelu_new"};
    c.tie_default = true;
    c.refused_flags = {"scale_attn_by_inverse_layer_idx"};  // an extra 1 / (layer + 1) on the scores
    f.norm = NormKind::layer;
    f.mlp = MlpKind::plain;
    f.positions = Positions::learned;
    f.layout = Layout::conv1d;
    f.tensors = {
        {Role::token_embed, "transformer.wte"},
        {Role::pos_embed, "transformer.wpe"},
        {Role::final_norm, "transformer.ln_f"},
        {Role::lm_head, "lm_head"},
        {Role::attn_norm, "transformer.h.{}.ln_1"},
        {Role::mlp_norm, "transformer.h.{}.ln_2"},
    };
    // c_attn's parts are named "c_attn.q" etc. in pruning reports and low-rank files.
    f.linears = {
        {Role::q, "q", "transformer.h.{}.attn.c_attn.q", Bias::always},
        {Role::k, "k", "transformer.h.{}.attn.c_attn.k", Bias::always},
        {Role::v, "v", "transformer.h.{}.attn.c_attn.v", Bias::always},
        {Role::o, "o", "transformer.h.{}.attn.c_proj", Bias::always},
        {Role::mlp_in, "fc", "transformer.h.{}.mlp.c_fc", Bias::always},
        {Role::mlp_out, "proj", "transformer.h.{}.mlp.c_proj", Bias::always},
    };
    f.fused = {{"transformer.h.{}.attn.c_attn", {Role::q, Role::k, Role::v}}};  // [D, 3 D]
    // The causal-mask buffers older checkpoints carry are not weights.
    f.ignored = {"transformer.h.{}.attn.bias", "transformer.h.{}.attn.masked_bias"};
    f.optional_prefix = "transformer.";  // older checkpoints name tensors "h.0.ln_1.weight", ...
    return f;
  }();
  return family;
}

}  // namespace sinklab
